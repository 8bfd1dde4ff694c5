"""Keras's MNIST example (Conv 32 3x3, MaxPool 2, Conv 64 3x3, MaxPool 2, Dense 128,
Dense 10 softmax; Adam; batch 32) trained by Loom, PyTorch and Keras (JAX
backend) side by side: samples per second at equal thread counts, peak
memory, and GFLOP/s against the multiply-adds of the network.

Each framework runs in its own process, pinned to the first `threads`
cores; each reports the median of its epochs after the first (which
includes warm-up and, for Keras, XLA compilation). Run with `make bench`."""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "12800"))  # Loom reports epoch times to 0.1 s: ~3% steps here
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "4"))  # the first is warm-up; the median of the rest is timed
# Multiply-adds of one sample's forward pass (Loom's summary gives the same).
MACS = 26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 1600 * 128 + 128 * 10
TRAIN_FLOPS = 3 * 2 * MACS  # forward, and a backward about twice as costly

LOOM_CODE = """seed 1
set threads {threads}
data d = glyphs n {n} size 28
model cnn {{
  input 28x28x1
  conv2d 32 3x3 relu
  maxpool 2
  conv2d 64 3x3 relu
  maxpool 2
  flatten
  dense 128 relu
  dense 10 softmax
}}
train cnn on d epochs {epochs} batch 32
"""

TORCH_CODE = """
import time, torch, torch.nn as nn
torch.set_num_threads({threads}); torch.manual_seed(1)
x = torch.rand({n}, 1, 28, 28); y = torch.randint(0, 10, ({n},))
net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3); loss = nn.CrossEntropyLoss()
times = []
for epoch in range({epochs}):
    start = time.perf_counter()
    for i in range(0, {n}, 32):
        opt.zero_grad(); l = loss(net(x[i:i+32]), y[i:i+32]); l.backward(); opt.step()
    times.append(time.perf_counter() - start)
print(sorted(times[1:])[len(times[1:]) // 2])
"""

KERAS_CODE = """
import os, time
os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
import numpy as np, keras
x = np.random.rand({n}, 28, 28, 1).astype("float32"); y = np.random.randint(0, 10, {n})
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
    keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
times = []
class T(keras.callbacks.Callback):
    def on_epoch_begin(self, e, logs=None): self.t = time.perf_counter()
    def on_epoch_end(self, e, logs=None): times.append(time.perf_counter() - self.t)
model.fit(x, y, epochs={epochs}, batch_size=32, verbose=0, callbacks=[T()])
print(sorted(times[1:])[len(times[1:]) // 2])
"""


PEAK_CODE = """
import time, torch
torch.set_num_threads({threads})
a = torch.rand(2048, 2048); b = torch.rand(2048, 2048); a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
print(2 * 2048 ** 3 / best)
"""


def pinned(threads, argv, **kwargs):
    """Runs argv on the first `threads` cores under /usr/bin/time; returns (stdout, peak RSS in MiB)."""
    cores = ",".join(str(c) for c in range(threads))
    with tempfile.NamedTemporaryFile("r") as report:
        result = subprocess.run(["taskset", "-c", cores, "/usr/bin/time", "-f", "%M", "-o", report.name, *argv],
                                capture_output=True, text=True, check=True, **kwargs)
        return result.stdout, int(report.read().strip().splitlines()[-1]) / 1024


# Loom as a user's machine runs it: this machine's OpenBLAS pins are left out of its commands alone.
USER_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}


def loom(threads):
    out, rss = pinned(threads, [LOOM, "eval", "-"], input=LOOM_CODE.format(threads=threads, n=SAMPLES, epochs=EPOCHS),
                      env={**USER_ENV, "OPENBLAS_NUM_THREADS": str(threads)})
    epochs = re.findall(r"│\s+(\d+) │.*│\s+([\d.]+) s │", out)
    seconds = statistics.median_low(float(s) for e, s in epochs if int(e) > 1)
    return SAMPLES / seconds, rss


def python(code, threads):
    out, rss = pinned(threads, [BENCH_PY, "-c", code.format(threads=threads, n=SAMPLES, epochs=EPOCHS,
                                                         multi="true" if threads > 1 else "false")],
                      env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    return SAMPLES / float(out.strip().splitlines()[-1]), rss


def peak(threads):
    """The machine's matrix-product peak on `threads` cores: a 2048² sgemm (PyTorch's BLAS), in GFLOP/s."""
    cores = ",".join(str(c) for c in range(threads))
    out = subprocess.run(["taskset", "-c", cores, BENCH_PY, "-c", PEAK_CODE.format(threads=threads)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1]) / 1e9


def main():
    print(machine.describe(LOOM, USER_ENV))
    threads_list = [1, 2] if os.cpu_count() >= 2 else [1]
    rows = []
    for threads in threads_list:
        results = {"loom": loom(threads), "pytorch": python(TORCH_CODE, threads)}
        try:
            results["keras (jax)"] = python(KERAS_CODE, threads)
        except subprocess.CalledProcessError as error:
            print(f"keras skipped: {error.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        rows.append((threads, peak(threads), results))
    print(f"{'threads':>7} {'framework':<12} {'samples/s':>10} {'vs loom':>8} {'peak MiB':>9} {'GFLOP/s':>8} {'of peak':>8}")
    for threads, top, results in rows:
        base = results["loom"][0]
        for name, (rate, rss) in results.items():
            achieved = rate * TRAIN_FLOPS / 1e9
            print(f"{threads:>7} {name:<12} {rate:>10.0f} {base / rate:>7.2f}x {rss:>9.0f} {achieved:>8.1f} {achieved / top:>7.0%}")
    print(f"vs loom: how many times faster Loom is. GFLOP/s from {TRAIN_FLOPS / 1e6:.1f} MFLOP per training sample;")
    print("peak: " + ", ".join(f"{top:.0f} GFLOP/s on {threads} thread{'s' if threads > 1 else ''}" for threads, top, _ in rows)
          + " (a 2048x2048 sgemm).")


if __name__ == "__main__":
    main()
