#!/usr/bin/env bash
# Instructions per query of the SDK's own work (build + sign, verify + parse + map), counted by
# valgrind's callgrind: unlike times, counts do not move with the machine's load. Each figure is
# the difference of two runs (N and 2N iterations) divided by N, so start-up work cancels out.
#
#   scripts/bench-instructions.sh [provider ...]     (default: cpos; N=20000 for cpos, 200 else)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cargo build --release -p refund-bench --example warm_loop
bin=target/release/examples/warm_loop
count() { # provider step iterations -> instructions collected
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 |
    awk '/Collected/ {print $4}'
}
for provider in "${@:-cpos}"; do
  n=20000
  [ "$provider" = cpos ] || n=200
  for step in build parse; do
    a=$(count "$provider" "$step" "$n")
    b=$(count "$provider" "$step" $((2 * n)))
    echo "$provider/$step: $(((b - a) / n)) instructions per query"
  done
done
