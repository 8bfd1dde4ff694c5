"""Shared set-up: a private Jupyter data dir holding the Loom kernelspec, and
helpers to start the real `loom kernel` and talk to it over ZeroMQ."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")

# One BLAS kernel for every machine the tests run on: OpenBLAS kernels round
# differently, and the tutorials are compared with outputs committed from
# another machine. Haswell's kernel runs on every x86-64 CPU with AVX2.
# `make tutorials` uses the same.
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

# Installed once, before any test (jupyter_kernel_test starts its kernel in
# setUpClass, so this must happen at import time rather than in a fixture).
_home = Path(tempfile.mkdtemp(prefix="loom-tests-"))
subprocess.run([LOOM, "install", "--prefix", str(_home)], check=True, capture_output=True)
os.environ["JUPYTER_PATH"] = str(_home / "share" / "jupyter")
os.environ["JUPYTER_RUNTIME_DIR"] = str(_home / "runtime")
os.environ["LOOM_HISTORY"] = str(_home / "history.jsonl")


# A small data set and model for tests that train (a second or so).
SMALL_MODEL = """seed 1
data g = glyphs n 400 size 12
model m {
  input 12x12x1
  conv2d 4 3x3 relu
  maxpool 2
  flatten
  dense 10 softmax
}
"""


class RunningKernel:
    """A `loom kernel` process started by hand, with its log captured."""

    def __init__(self, tmp_path, key="secret-key", env=None):
        from jupyter_client.connect import write_connection_file

        self.connection_file = str(tmp_path / "kernel.json")
        write_connection_file(self.connection_file, key=key.encode() if key else b"", ip="127.0.0.1")
        self.log_path = tmp_path / "kernel.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [LOOM, "kernel", "-f", self.connection_file],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient(connection_file=self.connection_file)
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=20)

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        self.client.stop_channels()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture
def kernel(tmp_path):
    k = RunningKernel(tmp_path)
    yield k
    k.stop()


def wait_for(predicate, timeout=5.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
