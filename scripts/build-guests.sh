#!/usr/bin/env bash
# Builds the WebAssembly guest examples (guests/) and assembles the example root
# target/example-roots/wasm/, whose plugins/ holds them (with their manifests) and
# whose etc/wasm.yaml grants what they ask for, so that
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
for pair in echo:echo count_plus_one:countPlusOne accumulate_word_count:accumulateWordCount add_one:addOne faulty:faulty fs_probe:fsProbe spread:spread state_probe:stateProbe; do
  crate=${pair%%:*}
  name=${pair##*:}
  cp "$out/$crate.wasm" "$root/plugins/functions/$name.wasm"
done
cp "$out/random_source.wasm" "$root/plugins/sources/random.wasm"
cp "$out/tally_sink.wasm" "$root/plugins/sinks/tally.wasm"
cp "$out/file_sink.wasm" "$root/plugins/sinks/fileSink.wasm"
cp guests/examples/file-sink/fileSink.json "$root/plugins/sinks/fileSink.json"
# The operator's grants: fileSink's manifest asks to write data/fileSink.
cat > "$root/etc/wasm.yaml" <<'YAML'
grants:
  fileSink:
    dirs: ["data"]
    writable: true
YAML
echo "example root: $root"
ls "$root/plugins/functions"

# The Python guest: accumulateWordCount again, built with componentize-py (PyPI), in a
# root of its own (one root cannot hold two plugins exporting the same function).
python3 -m pip install --quiet --disable-pip-version-check "componentize-py==0.25.1" 2>&1 \
  | grep -v "Running pip as the 'root' user" || true
pyroot=target/example-roots/wasm-python
pyout="$pyroot/plugins/functions/accumulateWordCount.wasm"
pysrc=guests/python/accumulate_word_count
mkdir -p "$pyroot/plugins/functions" "$pyroot/data"
if [ ! -f "$pyout" ] || [ -n "$(find "$pysrc" wit -newer "$pyout" -type f | head -1)" ]; then
  # The script lands in the interpreter's scripts folder, which may not be on PATH.
  cpy="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/componentize-py"
  [ -x "$cpy" ] || cpy=componentize-py
  (cd "$pysrc" && "$cpy" -d ../../../wit -w function-plugin componentize app -o "$OLDPWD/$pyout" >/dev/null)
fi
echo "python example root: $pyroot"
ls "$pyroot/plugins/functions"
