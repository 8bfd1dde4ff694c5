"""Loading the full Fashion-MNIST (60,000 + 10,000 images, the four gzip IDX
files) from each framework's cache: Loom's `data f = mnist fashion` (timed
by its own `time`, so start-up is left out), Keras's
`keras.datasets.fashion_mnist.load_data()` (uint8 arrays; and with the
`astype("float32") / 255` its examples do next, which Loom's floats already
are), and torchvision's `FashionMNIST` (uint8 tensors, from the uncompressed
files its download step leaves). The same files for all: Debian's
`dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist), or
`$FASHION_MNIST_DIR`. Medians of rounds taken in turn; the target is Loom no
slower than Keras. Run with `make bench`."""

import gzip
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
USER_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
SOURCE = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
ROUNDS = 7

KERAS_CODE = """
import os, time
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras
start = time.perf_counter()
(x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()
loaded = time.perf_counter()
x, xt = x.astype("float32") / 255, xt.astype("float32") / 255
print(loaded - start, time.perf_counter() - start, x.shape[0] + xt.shape[0])
"""

TORCH_CODE = """
import time, sys
from torchvision.datasets import FashionMNIST
start = time.perf_counter()
train, test = FashionMNIST(sys.argv[1], train=True), FashionMNIST(sys.argv[1], train=False)
print(time.perf_counter() - start, len(train) + len(test))
"""


def loom_seconds(cache):
    out = subprocess.run([LOOM, "eval", "-"], input="time data f = mnist fashion\n", capture_output=True, text=True,
                         check=True, env={**USER_ENV, "LOOM_DATA": str(cache)}).stdout
    assert "f.train │  60,000" in out and "f.test  │  10,000" in out, out
    value, unit = re.search(r"time: ([\d.]+) (ms|s)", out).groups()
    return float(value) / (1000 if unit == "ms" else 1)


def keras_seconds(home):
    out = subprocess.run([BENCH_PY, "-c", KERAS_CODE], capture_output=True, text=True, check=True,
                         env={**os.environ, "KERAS_HOME": str(home)}).stdout.split()
    assert out[2] == "70000", out
    return float(out[0]), float(out[1])


def torch_seconds(root):
    done = subprocess.run([BENCH_PY, "-c", TORCH_CODE, str(root)], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    out = done.stdout.split()
    assert out[1] == "70000", out
    return float(out[0])


def main():
    if not all((SOURCE / f).is_file() for f in FILES):
        print(f"dataset bench: no Fashion-MNIST in {SOURCE} (apt-get install dataset-fashion-mnist, "
              "or set FASHION_MNIST_DIR); skipped")
        return
    print(machine.describe(LOOM, USER_ENV))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Each framework's cache, holding the same files (torchvision keeps them uncompressed).
        (tmp / "loom").mkdir()
        (tmp / "loom" / "fashion-mnist").symlink_to(SOURCE)
        (tmp / "keras" / "datasets").mkdir(parents=True)
        (tmp / "keras" / "datasets" / "fashion-mnist").symlink_to(SOURCE)
        raw = tmp / "torch" / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for f in FILES:
            (raw / f[:-3]).write_bytes(gzip.decompress((SOURCE / f).read_bytes()))
        loom, keras, keras_float, torch = [], [], [], []
        for _ in range(ROUNDS):
            loom.append(loom_seconds(tmp / "loom"))
            k, kf = keras_seconds(tmp / "keras")
            keras.append(k)
            keras_float.append(kf)
            t = torch_seconds(tmp / "torch")
            if t is not None:
                torch.append(t)
    m = statistics.median(loom)
    print(f"Fashion-MNIST, 70,000 images from the cache, median of {ROUNDS} rounds:")
    print(f"  Loom `data f = mnist fashion` (float32 /255)     {m * 1000:7.0f} ms")
    rows = [("Keras load_data() (uint8)", keras), ("Keras load_data() + astype(float32) / 255", keras_float),
            ("torchvision FashionMNIST (uint8, uncompressed)", torch)]
    for name, times in rows:
        if not times:
            print(f"  {name:47} not measured (torchvision could not be imported)")
            continue
        t = statistics.median(times)
        print(f"  {name:47} {t * 1000:7.0f} ms   {t / m:4.2f}x Loom's time")
    if statistics.median(keras) < m:
        print("  note: Loom was slower than Keras's load_data() this time (the target is no slower)")


if __name__ == "__main__":
    main()
