#!/usr/bin/env bash
# Every benchmark in one go (about 20 minutes on 2 cores): SDK cost per provider with both RSA
# back-ends, the crypto floor beside OpenSSL, end-to-end throughput (three runs each, with CPU
# per query), batch throughput beside the SDK, and batch/reconcile memory.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p refund-bench --bench sdk
cargo bench -p refund-bench --features aws-lc --bench sdk
# Allocations per call (counts: they do not move with the machine's load).
cargo bench -p refund-bench --bench allocs
cargo bench -p refund-bench --features aws-lc --bench allocs
# Instructions per call (callgrind counts, also load-independent), when valgrind is installed.
if command -v valgrind >/dev/null; then
  scripts/bench-instructions.sh cpos
  scripts/e2e-instructions.sh
fi
scripts/bench-crypto-floor.sh
# The bench alone builds on the library default (rsa); built beside the CLI it would be unified
# with the CLI's aws-lc. The CLI (for the batch and memory runs) always has aws-lc.
cargo build --release -p refund-cli
cargo build --release -p refund-bench
./target/release/e2e --queries 20000 --runs 3 --only cpos --rss target/release/refund
# The pure-Rust back-end signs ~1,000 times a second: fewer queries keep a run under a minute.
./target/release/e2e --queries 5000 --runs 3 --only openapi,edgeros
cargo build --release -p refund-bench --features aws-lc
./target/release/e2e --queries 20000 --runs 3 --only openapi,edgeros
