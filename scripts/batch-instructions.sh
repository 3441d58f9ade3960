#!/usr/bin/env bash
# Instructions per CPOS lookup of `refund batch` beside the SDK bench client's per query, counted
# by valgrind's callgrind (load cannot move counts). Each figure is the difference of two runs
# (N and 3N lookups) divided by 2N, so start-up work cancels out. With both cores saturated the
# ratio of the two is the ceiling of batch / SDK throughput in the e2e bench.
#
#   scripts/batch-instructions.sh
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
sdk() { # runs of 2,000 queries -> instructions (e2e starts its own sandbox, a child callgrind
  # does not trace). Runs, not queries, vary: e2e signs every query's request in advance for
  # its baselines, setup that grows with --queries but not with --runs.
  E2E_PROFILE=sdk count ./target/release/e2e --queries 2000 --runs "$1" --only cpos
}
n=5000
a=$(batch "$n"); b=$(batch $((3 * n)))
echo "refund batch cpos: $(((b - a) / (2 * n))) instructions per lookup"
a=$(sdk 1); b=$(sdk 3)
echo "SDK bench client (E2E_PROFILE=sdk): $(((b - a) / 4000)) instructions per query"
