#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), two at a time, seeded from fixtures/.
#   scripts/fuzz.sh            # 60 s each (what CI runs)
#   scripts/fuzz.sh 3600       # the long run
#   scripts/fuzz.sh 60 money   # one target
#   scripts/fuzz.sh --runs 10000000   # the long run: at least 10 million inputs per target
# Needs cargo-fuzz 0.13.2 (`cargo install --locked cargo-fuzz@0.13.2`); runs on stable with
# `-s none` (no sanitizer). A crash is saved in fuzz/artifacts/<target>/: copy it into the
# provider's fixtures/<provider>/responses/ as a regression case (its outcome gets a snapshot), or
# for the CLI's own parsers into fuzz/regressions/<target>/ (replayed by every run, CI's too) with
# a unit test beside the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time="${1:-60}"); what="${1:-60}s"
if [ "${1:-}" = "--runs" ]; then limit=(-runs="$2"); what="$2 runs"; shift 2; else shift || true; fi
targets=("$@")
# Slowest first, so the two slots finish together.
[ ${#targets[@]} -gt 0 ] || targets=(keys cli_resume cli_batch_input cpos_response flat_object edgeros_response \
  openapi_response sandbox_scenario evidence openapi_callback cli_config money cli_flags time)

max_len() { # target -> largest input: provider bodies up to 64 KiB; CLI text inputs 8 KiB
  case "$1" in
    cli_*|keys) echo 8192 ;;
    *) echo 65536 ;;
  esac
}
seed() { # target -> seed directories (and fuzz/regressions/<target>: inputs that once failed)
  [ -d "fuzz/regressions/$1" ] && printf '%s ' "fuzz/regressions/$1"
  case "$1" in
    openapi_response) echo fixtures/openapi/responses ;;
    edgeros_response) echo fixtures/edgeros/responses ;;
    cpos_response|flat_object) echo fixtures/cpos/responses ;;
    evidence) echo fixtures/cpos/responses fixtures/edgeros/responses ;;
    keys) echo fixtures/keys ;;
    sandbox_scenario) echo fixtures/sandbox ;;
    *) echo "fuzz/corpus/$1-seeds" ;;
  esac
}
mkdir -p fuzz/corpus/money-seeds fuzz/corpus/time-seeds fuzz/corpus/openapi_callback-seeds \
  fuzz/corpus/cli_batch_input-seeds fuzz/corpus/cli_resume-seeds fuzz/corpus/cli_config-seeds fuzz/corpus/cli_flags-seeds
printf '0.01' > fuzz/corpus/money-seeds/a; printf -- '-0.50' > fuzz/corpus/money-seeds/b; printf '92233720368547758.07' > fuzz/corpus/money-seeds/c
printf '2024-07-31 16:26:46' > fuzz/corpus/time-seeds/a; printf '2024-04-24T17:15:21+08:00' > fuzz/corpus/time-seeds/b
printf '{"param":"{\\"eventName\\":\\"payment.refund.success\\",\\"refundAmount\\":1,\\"refundStatus\\":\\"COMPLETED\\"}","sign":"AAAA"}' > fuzz/corpus/openapi_callback-seeds/a

printf 'lookup,id\r\nrefund_id,"R,1"\r\n\r\nmerchant_refund_id,M2\n' > fuzz/corpus/cli_batch_input-seeds/a
printf '{"lookup":"refund_id","id":"R1"}\n\n{"lookup":"x"}\n' > fuzz/corpus/cli_batch_input-seeds/b
printf '{"line":2,"status":"succeeded"}\n{"line":3,"err' > fuzz/corpus/cli_resume-seeds/a
printf 'line,lookup,id,provider,refund_id,merchant_refund_id,original_transaction_id,status,provider_status,amount,amount_minor,currency,fee_refunded_minor,created_at,completed_at,failure_code,failure_message,channel,signature,error_kind,error_message,error_code\n2,refund_id,R1,cpos,R1,,,failed,2,1.00,100,CNY,,,,E,"a, ""b""\nc",,verified,,,\n' > fuzz/corpus/cli_resume-seeds/b
printf '[cpos]\nbase_url = "http://127.0.0.1:1"\naccess_id = "cpostest"\nsecret = "SECRET-0123456789abcdef"\nresponse_signature = "optional"\n[openapi]\ncurrency = "CNY"\ntimestamp_unit = "ms"\nprivate_key = """\nSECRETMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n"""\n' > fuzz/corpus/cli_config-seeds/a
printf '[cpos]\nSECRET-key = "SECRET"\nresponse_signature = "SECRET"\n' > fuzz/corpus/cli_config-seeds/b
printf '[cpos]\n"SECRET`x" = "a\\"SECRET"\n[openapi]\n"b`SECRET`c" = 1\n' > fuzz/corpus/cli_config-seeds/c
printf '500ms' > fuzz/corpus/cli_flags-seeds/a; printf '168h' > fuzz/corpus/cli_flags-seeds/b; printf '1e-30' > fuzz/corpus/cli_flags-seeds/c
printf '1h 30m 0.5s' > fuzz/corpus/cli_flags-seeds/d; printf '18446744073709551615s' > fuzz/corpus/cli_flags-seeds/e

# FUZZ_TARGET_DIR: build elsewhere (e.g. to start a long run while fuzz/target is in use).
target_dir="${FUZZ_TARGET_DIR:-fuzz/target}"
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo fuzz build -s none --target-dir "$target_dir"
bin="$target_dir/$host/release"
# The long run (--runs): the two targets that parse CSV spend most of their time building
# csv_core's reader, whose comparisons `trace-compares` instruments; they run ~6x faster from a
# --no-trace-compares build (edge coverage still guides them, and their corpora were grown with
# trace-compares). Short runs (CI's smoke run) skip this second build.
csv_targets=()
if [ "$what" != "${what% runs}" ]; then
  csv_targets=(cli_batch_input cli_resume)
fi
for t in "${csv_targets[@]}"; do
  cargo fuzz build -s none --no-trace-compares --target-dir "$target_dir-ntc" "$t"
done
bin_of() { case " ${csv_targets[*]} " in *" $1 "*) echo "$target_dir-ntc/$host/release" ;; *) echo "$bin" ;; esac; }
run() {
  local t="$1" log="fuzz/corpus/$1.log"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  # The binaries built above, run directly: editing the sources during a long run neither
  # rebuilds nor mixes code versions.
  # shellcheck disable=SC2046 # seed dirs are space-separated, without spaces of their own
  # A dictionary where the target has one (fuzz/dicts/<target>.dict): the tokens of its syntax.
  local dict=(); [ -f "fuzz/dicts/$t.dict" ] && dict=(-dict="fuzz/dicts/$t.dict")
  if "$(bin_of "$t")/$t" "fuzz/corpus/$t" $(seed "$t") \
      "${limit[@]}" "${dict[@]}" -artifact_prefix="fuzz/artifacts/$t/" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz $t: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$') inputs ($what, $(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$')/s), no crash"
  else
    echo "fuzz $t: FAILED (see $log and fuzz/artifacts/$t/)" >&2
    tail -30 "$log" >&2
    return 1
  fi
}
# Two at a time, the next one starting as soon as either finishes.
status=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge 2 ]; then wait -n || status=1; running=$((running - 1)); fi
  run "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do wait -n || status=1; running=$((running - 1)); done
exit $status
