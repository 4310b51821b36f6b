#!/usr/bin/env bash
# Builds both guests and runs the peer benches: `gcd(a, b)` over the same 1,024 rows
# through Tributary's wasm tier and through arrow-udf-runtime's wasm runtime, in one
# criterion run. Not part of the test suite (it compiles a second wasmtime and arrow).
set -euo pipefail
cd "$(dirname "$0")"
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
(cd ../.. && bash scripts/build-guests.sh >/dev/null)
# One target folder with the main workspace: the crates both use (wasmtime for the
# tier, tokio, serde...) are compiled once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd ../.. && pwd)/target}"
cargo build --release --quiet -p arrow-udf-gcd --target wasm32-wasip1
export ARROW_UDF_GCD_WASM="$CARGO_TARGET_DIR/wasm32-wasip1/release/arrow_udf_gcd.wasm"
cargo bench --bench gcd -- "$@"
