#!/usr/bin/env bash
# Every published crate must build from its own .crate (what crates.io and docs.rs would get):
# `cargo package` with its verification, then the examples (which cargo does not verify) from the
# same .crate files, in one throwaway workspace that reuses this repository's target/.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(refund-core refund-openapi refund-edgeros refund-cpos refund-sandbox refund-cli)
exclude=(--exclude refund-bench --exclude refund-test-support)
# Verification builds the packaged crates as registry crates, and cargo never rebuilds a registry
# crate of the same version when its sources change: an earlier run's artifacts would be reused.
# Drop them (and the overlay's unpacked copies) first, so the check always builds today's .crate.
clean=(); for c in "${crates[@]}"; do clean+=(-p "$c"); done
cargo clean "${clean[@]}" --quiet
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/refund-*
cargo package --workspace "${exclude[@]}" --locked
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
CARGO_TARGET_DIR="$PWD/target" cargo build --manifest-path "$check/Cargo.toml" --workspace --examples --offline
echo "every published crate (and its examples) builds from its .crate alone"
