#!/usr/bin/env bash
# Instructions per CPOS query of each client the e2e bench times, counted by valgrind's
# callgrind (load cannot move counts): bare reqwest (pre-signed requests, spawned workers), our
# transport alone (the same requests), the SDK, and `refund batch`. Each figure is the
# difference of two runs divided by the extra queries, so start-up work cancels out. With both
# cores saturated, the ratios of these counts are the ceilings of the e2e bench's throughput
# ratios (SDK / bare, batch / SDK): the sandbox's own work is not counted.
#
#   scripts/e2e-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cargo build --release -p refund-cli
cargo build --release -p refund-bench
dir=$(mktemp -d)
./target/release/e2e serve "$dir" >"$dir/url" &
server=$!
trap 'kill "$server"; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.1; done
count() { # command... -> instructions collected (the traced process only: not the sandbox)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | awk '/Collected/ {print $4}'
}
batch() { # lookups -> instructions
  { echo lookup,id; for ((i = 0; i < $1; i++)); do echo "refund_id,auto-$i"; done; } >"$dir/ids.csv"
  rm -f "$dir/out.ndjson"
  count ./target/release/refund --config "$dir/refund.toml" batch cpos --input "$dir/ids.csv" \
    --output "$dir/out.ndjson" --concurrency 64
}
e2e() { # mode runs -> instructions for runs of 2,000 queries (e2e starts its own sandbox, a
  # child callgrind does not trace). Runs, not queries, vary: e2e signs every query's request
  # in advance for its baselines, setup that grows with --queries but not with --runs.
  E2E_PROFILE=$1 count ./target/release/e2e --queries 2000 --runs "$2" --only cpos
}
per_query() { # mode -> instructions per query
  local a b
  a=$(e2e "$1" 1)
  b=$(e2e "$1" 3)
  echo $(((b - a) / 4000))
}
bare=$(per_query bare)
transport=$(per_query transport)
sdk=$(per_query sdk)
n=5000
a=$(batch "$n")
b=$(batch $((3 * n)))
batch=$(((b - a) / (2 * n)))
echo "bare reqwest, spawned workers: $bare instructions per query"
echo "our transport alone: $transport instructions per query"
echo "SDK (E2E_PROFILE=sdk): $sdk instructions per query"
echo "refund batch cpos: $batch instructions per lookup"
awk -v b="$bare" -v t="$transport" -v s="$sdk" -v r="$batch" 'BEGIN {
  printf "counted ceilings: transport / bare %.3f, SDK / bare %.3f, batch / SDK %.3f\n", b / t, b / s, s / r
}'
