#!/bin/sh
# Coverage-guided fuzzing of Loom's readers of untrusted bytes with libFuzzer
# and AddressSanitizer: each target for SECONDS, from a corpus that starts
# with the seeds (test programs, valid files of each format, the test
# fixtures) and keeps what libFuzzer finds. Fails on any crash, leak, trap or
# timeout; the input that caused it is left in .build/fuzz-crashes.
# Usage: Fuzz/libfuzzer.sh SECONDS [TARGET...]
set -eu
seconds=${1:?seconds per target}
shift
targets=${*:-loom json wire safetensors npy idx csv gzip tar npz parameter dictionary deep}
swift=${SWIFT:-swift}
flags=${SWIFTFLAGS:-}
corpus=.build/fuzz-corpus
crashes=.build/fuzz-crashes

mkdir -p "$crashes"
build() {
    "$@" >"$crashes/build.log" 2>&1 || { cat "$crashes/build.log"; exit 1; }
}
# The plain build replays inputs and writes the seeds; the instrumented one fuzzes.
# shellcheck disable=SC2086
build $swift build -c release $flags --product loom-libfuzzer
build $swift build -c release --product loom-libfuzzer --scratch-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLIBFUZZER
.build/release/loom-libfuzzer seed "$corpus"
cp Tests/LoomEngineTests/Fixtures/*.safetensors "$corpus/safetensors/"
cp Tests/LoomEngineTests/Fixtures/*.tar.gz "$corpus/tar/"
cp Tests/LoomEngineTests/Fixtures/*.npz "$corpus/npz/"

failed=""
for target in $targets; do
    log=$crashes/$target.log
    if LOOM_FUZZ_TARGET=$target .build/fuzz/release/loom-libfuzzer "$corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$crashes/$target-" >"$log" 2>&1; then
        echo "fuzz $target: $(grep -E '^Done' "$log" | sed 's/^Done //'), no crash"
    else
        echo "fuzz $target: FAILED, see $log"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
        failed="$failed $target"
    fi
done
[ -z "$failed" ] || { echo "fuzzing found crashes in:$failed"; exit 1; }
