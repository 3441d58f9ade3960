#!/usr/bin/env bash
# Our RSA-2048 sign/verify (both back-ends) beside OpenSSL's, measured in one run on one machine.
#   scripts/bench-crypto-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== openssl speed -seconds 3 rsa2048 ($(openssl version))"
openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E '^(rsa 2048|                  sign)' || openssl speed -seconds 3 rsa2048
for backend in rsa aws-lc; do
  features=()
  [ "$backend" = aws-lc ] && features=(--features aws-lc)
  echo "== refunds-rs, back-end $backend (criterion medians)"
  cargo bench -q -p refund-bench "${features[@]}" --bench sdk -- 'rsa2048/' 2>/dev/null \
    | awk '/^rsa2048/ { name = $1 }
           /time:/ { for (i = 1; i <= NF; i++) if ($i == "time:") { print name, $(i + 3), $(i + 4); break } }'
done
