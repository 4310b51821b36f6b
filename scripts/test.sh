#!/usr/bin/env bash
# The whole test suite. Installs what it needs first, idempotently, so it works on a
# fresh machine: the Rust targets named in rust-toolchain.toml (and the C compiler,
# via apt-get when missing, in build-native.sh), then formatting, lints, the binary,
# the wasm and native plugin examples, and every test of the workspace (unit tests
# beside the code, end-to-end tests in tests/ that drive the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain (stable + wasm32-wasip2, from rust-toolchain.toml)"
if command -v rustup >/dev/null 2>&1; then
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install stable
  rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
fi

step "services the tests start (redis-server, mosquitto, influxd) and Node.js (componentize-js), from Debian"
missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$missing mosquitto"
command -v influxd >/dev/null 2>&1 || missing="$missing influxdb"
if [ -n "$missing" ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi
# Debian starts a system mosquitto (1883) and influxd (8086) at install; the tests
# start their own.
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop mosquitto >/dev/null 2>&1 || true
  systemctl stop influxdb >/dev/null 2>&1 || true
fi

step "schemathesis and pymodbus, from PyPI (the API is fuzzed against its OpenAPI document; pymodbus is the modbus source's device)"
if ! command -v schemathesis >/dev/null 2>&1 || ! schemathesis --version 2>/dev/null | grep -q "4.32.5"; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
if ! python3 -c 'import pymodbus, sys; sys.exit(pymodbus.__version__ != "3.8.6")' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check "pymodbus==3.8.6"
fi

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --quiet -- -D warnings
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
(cd guests && cargo fmt --all -- --check && cargo clippy --release --target wasm32-wasip2 --quiet -- -D warnings)

step "build the tributary binary (the end-to-end tests drive it)"
cargo build --quiet --bin tributary

step "build the wasm guest examples and the example root target/example-roots/wasm"
bash scripts/build-guests.sh

step "build the native plugin examples and the example roots target/example-roots/native*"
bash scripts/build-native.sh

step "assemble the external-functions example root target/example-roots/external"
rm -rf target/example-roots/external
mkdir -p target/example-roots
cp -r examples/external-root target/example-roots/external

step "compile the Python and JavaScript example roots' plugins once, into their code caches"
# Each of those components is 12-18 MB, seconds of compiling at a first load: done here
# one root at a time, the tests that load them in parallel find the code cached instead
# of all compiling the same files at once.
warm_spec=$(mktemp --suffix=.json)
printf '%s\n' '{"sql": "SELECT a FROM s", "streams": ["CREATE STREAM s (a BIGINT) WITH (TYPE=\"mock\")"], "mockSource": {"s": {"data": [{"a": 1}], "timestamps": [1000]}}}' > "$warm_spec"
for root in target/example-roots/wasm-python target/example-roots/wasm-js; do
  RUST_LOG=warn target/debug/tributary trial "$warm_spec" --root "$root" >/dev/null
done
rm -f "$warm_spec"

step "tests"
# Then the guests' own unit tests (props, frames, JSON), natively: they are plain Rust
# apart from the bindings. `faulty` traps on purpose with wasm32 intrinsics.
{
  TRIBUTARY_SKIP_BUILD=1 cargo test --workspace --quiet &&
    (cd guests && cargo test --workspace --exclude faulty --quiet)
} 2>&1 | tee target/test-output.log

# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' target/test-output.log
