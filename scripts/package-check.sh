#!/usr/bin/env bash
# Every published crate must build from its own .crate (what crates.io and docs.rs would get):
# `cargo package` writes the .crate files, then one throwaway workspace of their unpacked
# contents (reusing this repository's target/) checks each crate alone, with only the features
# its own dependencies ask for (what a user who depends on that one crate compiles), and builds
# them together with their examples.
#
# Not `cargo package`'s own verification: it builds each crate without this repository's
# profiles, so every dependency is compiled again, four times over (one per feature set) —
# five minutes of CI for what the per-crate check and the examples build below establish too.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(refund-core refund-openapi refund-edgeros refund-cpos refund-sandbox refund-cli)
exclude=(--exclude refund-bench --exclude refund-test-support)
cargo package --workspace "${exclude[@]}" --locked --no-verify
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
check=target/package-check
rm -rf "$check"; mkdir -p "$check"
{
  echo '[workspace]'
  echo 'resolver = "3"'
  printf 'members = ['; for c in "${crates[@]}"; do printf '"%s-%s", ' "$c" "$version"; done; echo ']'
  echo '[patch.crates-io]'
  for c in "${crates[@]}"; do echo "$c = { path = \"$c-$version\" }"; done
  # The same profiles as the repository, so its compiled dependencies are reused.
  sed -n '/^\[profile/,$p' Cargo.toml
} > "$check/Cargo.toml"
for c in "${crates[@]}"; do
  tar -xzf "target/package/$c-$version.crate" -C "$check"
  # Nothing outside the crate may be needed: a path that leaves it fails here.
  rm -f "$check/$c-$version/Cargo.toml.orig"
done
cp Cargo.lock "$check/Cargo.lock"
build() { CARGO_TARGET_DIR="$PWD/target" cargo "$@" --manifest-path "$check/Cargo.toml" --offline; }
for c in "${crates[@]}"; do
  # One package selected: features resolved for it alone, as in a user's build of it.
  build check -p "$c"
done
build build --workspace --examples
echo "every published crate checks alone from its .crate, and builds (with its examples) from them"
