#!/usr/bin/env bash
# Builds the Rego engine (regorus, through the C shim in
# third_party/regorus_shim) as a static library and puts it where Bazel
# links it from: third_party/regorus_shim/lib/libtrellis_rego.a (ignored by
# git). Cargo's registry and target directory live under $TRELLIS_CACHE
# (default ~/.cache/trellis), outside the tree, so later runs only relink
# when the shim changed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TRELLIS_CACHE:-$HOME/.cache/trellis}"
SHIM="$ROOT/third_party/regorus_shim"
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v cargo >/dev/null; then
  echo "build_rego.sh: cargo is missing; install Rust (https://rustup.rs)" >&2
  exit 1
fi
cargo build --quiet --release --locked --manifest-path "$SHIM/Cargo.toml" \
  --target-dir "$CACHE/cargo-target"
mkdir -p "$SHIM/lib"
BUILT="$CACHE/cargo-target/release/libtrellis_rego.a"
# Copied only when it changed, so Bazel does not relink for nothing.
if ! cmp -s "$BUILT" "$SHIM/lib/libtrellis_rego.a"; then
  cp "$BUILT" "$SHIM/lib/libtrellis_rego.a.tmp"
  mv "$SHIM/lib/libtrellis_rego.a.tmp" "$SHIM/lib/libtrellis_rego.a"
fi
