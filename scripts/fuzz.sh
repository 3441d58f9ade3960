#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), two at a time, seeded from fixtures/.
#   scripts/fuzz.sh            # 60 s each (what CI runs)
#   scripts/fuzz.sh 3600       # the long run
#   scripts/fuzz.sh 60 money   # one target
# Needs cargo-fuzz 0.13.2 (`cargo install --locked cargo-fuzz@0.13.2`); runs on stable with
# `-s none` (no sanitizer). A crash is saved in fuzz/artifacts/<target>/: copy it into the
# provider's fixtures/<provider>/responses/ as a regression case (its outcome gets a snapshot).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(openapi_response openapi_callback edgeros_response cpos_response money time)

seed() { # target -> seed directories
  case "$1" in
    openapi_response) echo fixtures/openapi/responses ;;
    edgeros_response) echo fixtures/edgeros/responses ;;
    cpos_response) echo fixtures/cpos/responses ;;
    *) echo "fuzz/corpus/$1-seeds" ;;
  esac
}
mkdir -p fuzz/corpus/money-seeds fuzz/corpus/time-seeds fuzz/corpus/openapi_callback-seeds
printf '0.01' > fuzz/corpus/money-seeds/a; printf -- '-0.50' > fuzz/corpus/money-seeds/b; printf '92233720368547758.07' > fuzz/corpus/money-seeds/c
printf '2024-07-31 16:26:46' > fuzz/corpus/time-seeds/a; printf '2024-04-24T17:15:21+08:00' > fuzz/corpus/time-seeds/b
printf '{"param":"{\\"eventName\\":\\"payment.refund.success\\",\\"refundAmount\\":1,\\"refundStatus\\":\\"COMPLETED\\"}","sign":"AAAA"}' > fuzz/corpus/openapi_callback-seeds/a

cargo fuzz build -s none
run() {
  local t="$1" log="fuzz/corpus/$1.log"
  mkdir -p "fuzz/corpus/$t"
  if cargo fuzz run -s none "$t" "fuzz/corpus/$t" "$(seed "$t")" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz $t: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$') inputs in ${seconds}s, no crash"
  else
    echo "fuzz $t: FAILED (see $log and fuzz/artifacts/$t/)" >&2
    tail -30 "$log" >&2
    return 1
  fi
}
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  for t in "${targets[@]:i:2}"; do run "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
done
exit $status
