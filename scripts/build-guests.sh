#!/usr/bin/env bash
# Builds the WebAssembly guest examples (guests/) and assembles the example root
# target/example-roots/wasm/, whose plugins/ holds them (with their manifests) and
# whose etc/wasm.yaml grants what they ask for (and target/example-roots/wasm-0.1/,
# the same for the components of tests/fixtures built against WIT 0.1.0), so that
#   tributary trial --root target/example-roots/wasm SPEC.json
# and the tests can use them. Idempotent: cargo rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --quiet --release --target wasm32-wasip2 --manifest-path guests/Cargo.toml

out=guests/target/wasm32-wasip2/release
root=target/example-roots/wasm
mkdir -p "$root/plugins/functions" "$root/plugins/sources" "$root/plugins/sinks" "$root/data" "$root/etc/functions"
# crate file name -> plugin name (camelCase, as in SQL)
for pair in echo:echo count_plus_one:countPlusOne accumulate_word_count:accumulateWordCount add_one:addOne gcd:gcd faulty:faulty fs_probe:fsProbe net_probe:netProbe spread:spread state_probe:stateProbe; do
  crate=${pair%%:*}
  name=${pair##*:}
  cp "$out/$crate.wasm" "$root/plugins/functions/$name.wasm"
done
cp "$out/random_source.wasm" "$root/plugins/sources/random.wasm"
cp "$out/jsonl_source.wasm" "$root/plugins/sources/jsonl.wasm"
# Not a plugin: the benches' raw-wasmtime baseline.
mkdir -p "$root/bench"
cp "$out/raw_add_one.wasm" "$root/bench/rawAddOne.wasm"
# Not a plugin either: built against a wrong copy of the contract, for the load error.
mkdir -p "$root/broken"
cp "$out/wrong_types.wasm" "$root/broken/wrongTypes.wasm"
cp guests/examples/jsonl-source/jsonl.json "$root/plugins/sources/jsonl.json"
cp "$out/tally_sink.wasm" "$root/plugins/sinks/tally.wasm"
cp "$out/file_sink.wasm" "$root/plugins/sinks/fileSink.wasm"
cp guests/examples/file-sink/fileSink.json "$root/plugins/sinks/fileSink.json"
# The connectors (guests/connectors): redis as a sink and as a lookup source, the
# influx sink and the modbus source. Their manifests ask for the network; the example
# root grants none (the tests grant the servers they start).
for k in sink source; do
  cp "$out/redis_$k.wasm" "$root/plugins/${k}s/redis.wasm"
  cp "guests/connectors/redis-$k/redis.json" "$root/plugins/${k}s/redis.json"
done
cp "$out/influx_sink.wasm" "$root/plugins/sinks/influx.wasm"
cp guests/connectors/influx-sink/influx.json "$root/plugins/sinks/influx.json"
cp "$out/modbus_source.wasm" "$root/plugins/sources/modbus.wasm"
cp guests/connectors/modbus-source/modbus.json "$root/plugins/sources/modbus.json"
# The operator's grants: fileSink's manifest asks to write data/fileSink, jsonl's to
# read data.
grants_yaml='grants:
  fileSink:
    dirs: ["data"]
    writable: true
  jsonl:
    dirs: ["data"]'
printf '%s\n' "$grants_yaml" > "$root/etc/wasm.yaml"
echo "example root: $root"
ls "$root/plugins/functions"

# The components built against WIT 0.1.0 (tests/fixtures, never rebuilt), in a root of
# their own with the same grants.
old=target/example-roots/wasm-0.1
rm -rf "$old/plugins" && mkdir -p "$old/etc" "$old/data"
cp -r tests/fixtures/wit-0.1/plugins "$old/plugins"
printf '%s\n' "$grants_yaml" > "$old/etc/wasm.yaml"

# The Python guests, on the Python SDK: the example set again (echo, countPlusOne,
# accumulateWordCount, spread, the jsonl source, the tally sink), built with
# componentize-py (PyPI), in a root of their own (one root cannot hold two plugins of
# one name).
python3 -m pip install --quiet --disable-pip-version-check "componentize-py==0.25.1" 2>&1 \
  | grep -v "Running pip as the 'root' user" || true
pyroot=target/example-roots/wasm-python
mkdir -p "$pyroot/plugins/functions" "$pyroot/plugins/sources" "$pyroot/data" "$pyroot/etc"
# The script lands in the interpreter's scripts folder, which may not be on PATH.
cpy="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/componentize-py"
[ -x "$cpy" ] || cpy=componentize-py
# py_guest SOURCE_DIR WORLD OUTPUT: rebuilt when the sources, the SDK
# (guests/python/tributary_plugin) or wit/ are newer.
sdk=guests/python/tributary_plugin
py_guest() {
  local src=$1 world=$2 out=$3
  if [ ! -f "$out" ] || [ -n "$(find "$src" "$sdk/tributary_plugin" wit -newer "$out" -type f -not -path '*/__pycache__/*' | head -1)" ]; then
    (cd "$src" && "$cpy" -d ../../../wit -w "$world" componentize -p . -p ../tributary_plugin app -o "$OLDPWD/$out" >/dev/null)
  fi
}
mkdir -p "$pyroot/plugins/sinks"
py_guest guests/python/echo function-plugin "$pyroot/plugins/functions/echo.wasm"
py_guest guests/python/count_plus_one function-plugin "$pyroot/plugins/functions/countPlusOne.wasm"
py_guest guests/python/accumulate_word_count function-plugin "$pyroot/plugins/functions/accumulateWordCount.wasm"
py_guest guests/python/spread function-plugin "$pyroot/plugins/functions/spread.wasm"
py_guest guests/python/tally_sink sink-plugin "$pyroot/plugins/sinks/tally.wasm"
py_guest guests/python/jsonl_source source-plugin "$pyroot/plugins/sources/jsonl.wasm"
# A Python guest that raises (the Rust `faulty` example's counterpart).
py_guest guests/python/fault function-plugin "$pyroot/plugins/functions/pyFault.wasm"
cp guests/python/jsonl_source/jsonl.json "$pyroot/plugins/sources/jsonl.json"
printf '%s\n' "$grants_yaml" > "$pyroot/etc/wasm.yaml"
echo "python example root: $pyroot"
ls "$pyroot/plugins/functions" "$pyroot/plugins/sources" "$pyroot/plugins/sinks"

# The JavaScript guests, built by componentize-js (npm, pinned in guests/js's
# package-lock.json) with its default settings, so they import wasi:http: greet (raw
# bindings), and the SDK's examples (guests/js/tributary_plugin) beside the Python
# ones.
jsroot=target/example-roots/wasm-js
jsdir=guests/js
mkdir -p "$jsroot/plugins/functions" "$jsroot/plugins/sinks" "$jsroot/etc" "$jsroot/data"
if [ ! -d "$jsdir/node_modules/@bytecodealliance/componentize-js" ]; then
  (cd "$jsdir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
jsout="$jsroot/plugins/functions/greet.wasm"
if [ ! -f "$jsout" ] || [ -n "$(find "$jsdir/greet" wit -newer "$jsout" -type f | head -1)" ]; then
  node "$jsdir/greet/build.mjs" "$PWD/$jsout"
fi
# js_guest SOURCE_DIR WORLD OUTPUT: rebuilt when the sources, the SDK or wit/ are newer.
js_guest() {
  local src=$1 world=$2 out=$3
  if [ ! -f "$out" ] || [ -n "$(find "$src" "$jsdir/tributary_plugin" wit -newer "$out" -type f | head -1)" ]; then
    node "$jsdir/tributary_plugin/build.mjs" "$src/app.js" "$world" "$out" wit
  fi
}
js_guest "$jsdir/echo" function-plugin "$jsroot/plugins/functions/echo.wasm"
js_guest "$jsdir/count_plus_one" function-plugin "$jsroot/plugins/functions/countPlusOne.wasm"
js_guest "$jsdir/accumulate_word_count" function-plugin "$jsroot/plugins/functions/accumulateWordCount.wasm"
js_guest "$jsdir/spread" function-plugin "$jsroot/plugins/functions/spread.wasm"
js_guest "$jsdir/tally_sink" sink-plugin "$jsroot/plugins/sinks/tally.wasm"
echo "javascript example root: $jsroot"
ls "$jsroot/plugins/functions" "$jsroot/plugins/sinks"
