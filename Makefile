# Loom: `make demo` builds, installs the kernelspec and runs a demo;
# `make test` runs every test. Both install what they need first.

SWIFT      ?= swift
## Code for this machine's CPU (AVX2/AVX-512 and FMA where it has them): the
## engine's own SIMD loops (the sparse kernel, the recurrent cells) run 15%
## to 2x faster than for the generic x86-64 baseline, with the same results
## bit for bit. `make SWIFTFLAGS=` builds for any x86-64.
SWIFTFLAGS ?= -Xswiftc -target-cpu -Xswiftc native
PYTHON     ?= python3
VENV       := .venv
RELEASE    := .build/release
LOOM       := $(RELEASE)/loom
SYSTEM_PACKAGES := libzmq3-dev libsodium-dev libopenblas-dev zlib1g-dev libpng-dev libcurl4
## Open MPI, for the tests that run `loom run` under mpirun (loom loads libmpi
## at run time, so building and the demo need none of it).
TEST_PACKAGES   := openmpi-bin libopenmpi-dev
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps system-deps test-system-deps install-packages build install demo test unit-test conformance bench clean docs tutorials fuzz sanitize soak kernelspec

all: build

## System libraries (Debian), installed only when missing.
system-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(SYSTEM_PACKAGES)"

test-system-deps: system-deps
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(TEST_PACKAGES)"

install-packages:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## The pinned Python clients the tests use, and Loom's Python companion
## (papermill translator, Pygments lexer, Keras and PyTorch conversion), in an
## ignored virtualenv; torch as the CPU-only wheel: the one in $$PIP_FIND_LINKS
## when there is one, else from PyTorch's CPU index (never the CUDA build).
TORCH_VERSION := 2.13.0
$(VENV)/.installed: Tests/conformance/requirements.txt python/pyproject.toml $(wildcard python/loom_jupyter/*.py)
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r Tests/conformance/requirements.txt
	wheel=$$(ls $${PIP_FIND_LINKS:-/nonexistent}/torch-$(TORCH_VERSION)+cpu-*.whl 2>/dev/null | head -1); \
	$(VENV)/bin/pip install -q $${wheel:-torch==$(TORCH_VERSION) --index-url https://download.pytorch.org/whl/cpu}
	$(VENV)/bin/pip install -q --no-build-isolation --no-deps ./python
	@rm -rf python/build python/*.egg-info
	@touch $@

deps: system-deps $(VENV)/.installed

build: system-deps
	$(SWIFT) build -c release $(SWIFTFLAGS) --product loom

## The kernelspec for this user. With PREFIX (`make install PREFIX=~/.local`)
## the binary is copied to PREFIX/bin first and the kernelspec points there,
## so the checkout can move or be cleaned; `loom install --uninstall` removes it.
PREFIX ?=
install: build
ifeq ($(PREFIX),)
	$(LOOM) install --user
else
	install -D -m 755 $(LOOM) $(PREFIX)/bin/loom
	$(PREFIX)/bin/loom install --user
endif

## Executes the CNN tutorial headlessly and prints its cells and outputs.
demo: install
	$(LOOM) run notebooks/02-cnn.ipynb -o $${TMPDIR:-/tmp}/loom-demo.ipynb --show-outputs

## Swift unit tests (release build, shared with the binary), a short
## coverage-guided fuzz run of each reader of untrusted bytes from its corpus,
## then the Python clients against the real kernel.
test: deps test-system-deps
	$(SWIFT) build -c release $(SWIFTFLAGS) --product loom
	$(SWIFT) test -c release $(SWIFTFLAGS)
	SWIFT=$(SWIFT) SWIFTFLAGS="$(SWIFTFLAGS)" Fuzz/libfuzzer.sh 5
	LOOM_BIN=$(abspath $(LOOM)) $(VENV)/bin/python -m pytest -q Tests/conformance

unit-test: system-deps
	$(SWIFT) test -c release $(SWIFTFLAGS)

conformance: deps test-system-deps build
	LOOM_BIN=$(abspath $(LOOM)) $(VENV)/bin/python -m pytest -q Tests/conformance

## The frameworks the CNN benchmark compares with, in their own virtualenv;
## torch from the CPU-only wheel in $$PIP_FIND_LINKS when there is one.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: Benchmarks/requirements.txt
	@[ -x $(BENCH_VENV)/bin/python ] || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -r Benchmarks/requirements.txt
	wheel=$$(ls $${PIP_FIND_LINKS:-/nonexistent}/torch-*cpu*.whl 2>/dev/null | head -1); \
	$(BENCH_VENV)/bin/pip install -q $${wheel:-torch}
	@touch $@

## Benchmarks, side by side: the kernel against ipykernel, CNN and recurrent training against PyTorch and Keras,
## grouped and depthwise convolutions against PyTorch's nn.Conv2d(groups=…),
## what compact and the compact file layout save, Deep Compression of LeNet-300-100
## (on MNIST and on the full Fashion-MNIST), sparse coding, the lasso, LISTA and patch
## extraction against scikit-learn, loading Fashion-MNIST against Keras and torchvision
## (both from Debian's dataset-fashion-mnist, which bench installs), and
## two MPI ranks against one process (an epoch of the reference CNN, a parallel sweep).
bench: deps test-system-deps build $(BENCH_VENV)/.installed
	$(SWIFT) build -c release $(SWIFTFLAGS) --product kernel-bench
	LOOM_BIN=$(abspath $(LOOM)) $(VENV)/bin/python Benchmarks/kernel_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(VENV)/bin/python Benchmarks/cnn_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/rnn_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/sparse_bench.py
	LOOM_BIN=$(abspath $(LOOM)) $(BENCH_VENV)/bin/python Benchmarks/compact_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/groups_bench.py
	@dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq dataset-fashion-mnist || true
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/compression_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/coding_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/lasso_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/patch_bench.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/local_bench.py
	LOOM_BIN=$(abspath $(LOOM)) $(VENV)/bin/python Benchmarks/mpi_bench.py
	LOOM_BIN=$(abspath $(LOOM)) $(BENCH_VENV)/bin/python Benchmarks/csv_parity.py
	LOOM_BIN=$(abspath $(LOOM)) BENCH_PY=$(abspath $(BENCH_VENV))/bin/python $(BENCH_VENV)/bin/python Benchmarks/dataset_bench.py

## Long fuzz run: 100,000 mutated programs, 100,000 damaged messages, 10,000
## random models, and 1,000 models trained on one and on two threads; then
## libFuzzer with AddressSanitizer on the parser, JSON, wire framing and the
## file readers, FUZZ_SECONDS each (the corpus grows in .build/fuzz-corpus).
FUZZ_SECONDS ?= 180
fuzz: system-deps
	$(SWIFT) build -c release $(SWIFTFLAGS) --product loom-fuzz
	$(RELEASE)/loom-fuzz 100000 $${SEED:-1}
	SWIFT=$(SWIFT) SWIFTFLAGS="$(SWIFTFLAGS)" Fuzz/libfuzzer.sh $(FUZZ_SECONDS)

## AddressSanitizer and ThreadSanitizer: the unit tests, then a kernel
## session (the protocol, bounds, reliability and jupyter_kernel_test suites)
## through each instrumented binary; fails on any report (Fuzz/sanitize.sh).
sanitize: deps
	SWIFT=$(SWIFT) PYTHON=$(abspath $(VENV))/bin/python Fuzz/sanitize.sh

## Soak: 10,000 executes through the real kernel, memory measured at both ends.
soak: deps build
	LOOM_BIN=$(abspath $(LOOM)) LOOM_SOAK_EXECUTES=10000 $(VENV)/bin/python -m pytest -q -s Tests/conformance/test_reliability.py -k soak

clean:
	rm -rf .build $(VENV)

## Re-execute the tutorials and commit them with their outputs (with the BLAS
## kernel the tests use, so the numbers match on every machine).
tutorials: build
	for nb in notebooks/*.ipynb; do OPENBLAS_CORETYPE=Haswell $(LOOM) run "$$nb" --inplace -q || exit 1; done

## Rewrite kernelspec/ (kernel.json with `loom` on PATH, the logos) from the binary.
kernelspec: build
	$(LOOM) install --template kernelspec

## Regenerate the statement reference in docs/language.md from the signature table.
docs: build
	$(LOOM) reference --update docs/language.md --gallery docs
