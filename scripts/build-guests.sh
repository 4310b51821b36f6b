#!/usr/bin/env bash
# Builds the WebAssembly guest examples (guests/) and assembles the example root
# target/example-roots/wasm/, whose plugins/functions/ holds them, so that
#   tributary trial --root target/example-roots/wasm SPEC.json
# and the tests can use them. Idempotent: cargo rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --quiet --release --target wasm32-wasip2 --manifest-path guests/Cargo.toml

out=guests/target/wasm32-wasip2/release
root=target/example-roots/wasm
mkdir -p "$root/plugins/functions" "$root/data" "$root/etc/functions"
# crate file name -> plugin name (camelCase, as in SQL)
for pair in echo:echo count_plus_one:countPlusOne accumulate_word_count:accumulateWordCount add_one:addOne faulty:faulty; do
  crate=${pair%%:*}
  name=${pair##*:}
  cp "$out/$crate.wasm" "$root/plugins/functions/$name.wasm"
done
echo "example root: $root"
ls "$root/plugins/functions"
