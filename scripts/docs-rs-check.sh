#!/usr/bin/env bash
# Builds each published crate's docs as docs.rs will: with the features its
# [package.metadata.docs.rs] lists, warnings denied, on stable. `--cfg docsrs` stays docs.rs's own
# (it needs nightly's doc_cfg); the feature list is what this checks. A list that names
# `fuzzing`, or `all-features = true` (which would turn `fuzzing` on), is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --no-deps --locked |
  python3 -c '
import json, sys
meta = json.load(sys.stdin)
for pkg in meta["packages"]:
    name = pkg["name"]
    if pkg.get("publish") == []:
        continue
    docs = (pkg.get("metadata") or {}).get("docs", {}).get("rs")
    if docs is None:
        sys.exit(name + ": no [package.metadata.docs.rs]")
    if docs.get("all-features"):
        sys.exit(name + ": all-features would document `fuzzing`")
    features = docs.get("features", [])
    if "fuzzing" in features:
        sys.exit(name + ": docs.rs must not enable `fuzzing`")
    print(name, ",".join(features))
' | while read -r crate features; do
    echo "docs.rs build of $crate (features: ${features:-none})"
    RUSTDOCFLAGS="-D warnings" cargo doc -p "$crate" --no-deps --locked \
      ${features:+--features "$features"}
  done
