#!/usr/bin/env bash
# Builds the native (.so) plugin examples and assembles the example roots:
#   target/example-roots/native/     the Rust examples under plugins/{functions,sources,sinks}
#   target/example-roots/native-c/   accumulateWordCount written in C (same function name
#                                    as the Rust one, so it needs a root of its own)
#   target/example-roots/native-fixtures/  broken libraries the tests load on purpose
# so that `tributary trial --root target/example-roots/native SPEC.json` uses them.
# Idempotent: cargo and the C compiler rebuild only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cc >/dev/null; then
  # The C example needs the system C compiler (Rust's linker needs it too).
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq gcc libc6-dev >/dev/null
fi

profile=${NATIVE_PROFILE:-debug}
flag=""; [ "$profile" = release ] && flag="--release"
crates=(echo add-one count-plus-one accumulate-word-count spread shared-counter faulty random-source file-sink state-probe)
cargo build --quiet $flag $(printf -- '-p native-%s ' "${crates[@]}")

out=target/$profile
root=target/example-roots/native
mkdir -p "$root/plugins/functions" "$root/plugins/sources" "$root/plugins/sinks" "$root/data" "$root/etc/sinks/fileSink"
# library -> plugin file (the name SQL and rule JSON use)
for pair in echo:functions/echo count_plus_one:functions/countPlusOne \
            accumulate_word_count:functions/accumulateWordCount spread:functions/spread \
            shared_counter:functions/sharedCounter faulty:functions/faulty add_one:functions/addOne \
            state_probe:functions/stateProbe random_source:sources/random file_sink:sinks/fileSink; do
  lib=${pair%%:*}
  dest=${pair##*:}
  cp "$out/libnative_$lib.so" "$root/plugins/$dest.so"
done

cflags=(-shared -fPIC -O2 -Wall -Wextra -Werror -std=c11 -I native-plugins/include)
croot=target/example-roots/native-c
mkdir -p "$croot/plugins/functions" "$croot/data"
cc "${cflags[@]}" -o "$croot/plugins/functions/accumulateWordCount.so" native-plugins/c/accumulate_word_count.c

# The libraries built against native ABI 1 (tests/fixtures, never rebuilt).
old=target/example-roots/native-abi-1
rm -rf "$old/plugins" && mkdir -p "$old/data"
cp -r tests/fixtures/native-abi-1/plugins "$old/plugins"

fix=target/example-roots/native-fixtures
mkdir -p "$fix"
cc "${cflags[@]}" -o "$fix/wrongAbi.so" native-plugins/fixtures/wrong_abi.c
cc "${cflags[@]}" -o "$fix/wrongLayout.so" native-plugins/fixtures/wrong_layout.c
cc "${cflags[@]}" -o "$fix/noSymbol.so" native-plugins/fixtures/no_symbol.c
cc "${cflags[@]}" -o "$fix/nullEntry.so" native-plugins/fixtures/null_entry.c
printf 'this is not a shared object\n' > "$fix/notElf.so"
echo "native example roots: $root $croot"
ls "$root/plugins/functions" "$root/plugins/sources" "$root/plugins/sinks"
