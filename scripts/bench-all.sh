#!/usr/bin/env bash
# Every benchmark in one go (takes ~10 minutes on 2 cores): SDK cost per provider with both RSA
# back-ends, the crypto floor beside OpenSSL, end-to-end throughput and batch memory.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p refund-bench --bench sdk
cargo bench -p refund-bench --features aws-lc --bench sdk
scripts/bench-crypto-floor.sh
# The bench alone builds on the library default (rsa); built beside the CLI it would be unified
# with the CLI's aws-lc. The CLI (for the memory runs) always has aws-lc.
cargo build --release -p refund-cli
cargo build --release -p refund-bench
./target/release/e2e --queries 20000 --rss target/release/refund
cargo build --release -p refund-bench --features aws-lc
./target/release/e2e --queries 20000
