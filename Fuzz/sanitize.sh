#!/usr/bin/env bash
# AddressSanitizer (with LeakSanitizer) and ThreadSanitizer runs: the unit
# tests, then a kernel session through the real ZeroMQ clients, each against
# its instrumented build (.build/asan, .build/tsan). Sanitizer reports are
# written to .build/sanitizer-logs; any report fails the run.
#
# Left out under the sanitizers: leak checking of the unit-test process
# (XCTest keeps every test case alive through its expectation machinery,
# so all a test holds is reported as leaked) and the two tests that measure
# resident memory (the sanitizers' shadow memory and quarantine inflate it).
set -euo pipefail
swift=${SWIFT:-swift}
python=${PYTHON:-.venv/bin/python}
logs=$(pwd)/.build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
session="Tests/conformance/test_protocol.py Tests/conformance/test_bounds.py Tests/conformance/test_reliability.py
         Tests/conformance/test_kernel_test_suite.py"
skip="not never_reads and not soak_memory"

for kind in address thread; do
    dir=.build/$( [ $kind = address ] && echo asan || echo tsan )
    echo "== $kind sanitizer: building"
    $swift build -c release --build-tests --scratch-path "$dir" -Xswiftc -sanitize=$kind >/dev/null
    echo "== $kind sanitizer: unit tests"
    ASAN_OPTIONS=detect_leaks=0:log_path=$logs/unit TSAN_OPTIONS=log_path=$logs/unit \
        $swift test -c release --skip-build --scratch-path "$dir" 2>&1 | grep -E "Executed [0-9]+ tests" | tail -1
    echo "== $kind sanitizer: a kernel session"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1:log_path=$logs/kernel TSAN_OPTIONS=log_path=$logs/kernel \
        LOOM_BIN=$(pwd)/$dir/release/loom $python -m pytest -q $session -k "$skip" 2>&1 | tail -1
done
if [ -n "$(ls "$logs")" ]; then
    echo "sanitizer reports:"
    grep -h -E "^(SUMMARY|WARNING: ThreadSanitizer|==[0-9]+==ERROR)" "$logs"/* | sort | uniq -c
    exit 1
fi
echo "no sanitizer reports"
