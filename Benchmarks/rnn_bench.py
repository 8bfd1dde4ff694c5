"""Recurrent training speed, side by side: the LSTM on sine waves (50 units on
10x1 sequences, Dense 10 softmax, Adam, batch 32), the same with a GRU, and an
LSTM of 64 units reading 8x8 digits row by row, trained by Loom, PyTorch and
Keras (JAX backend) on the same random arrays. Samples per second at 1 and 2
threads (each framework pinned to as many cores), and peak memory.

Loom runs as a user's machine runs it: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
are unset for its commands alone, and the BLAS kernel that ran is printed.
Loom's rate is the difference of two whole runs (few and many epochs), so
start-up and data loading cancel out; the others report the median of their
epochs after the first (which includes warm-up and, for Keras, XLA
compilation).

Each framework is measured in BENCH_ROUNDS rounds (3), taken in turn —
Loom, PyTorch, Keras, then again — and the best round of each is reported:
on a shared machine the same binary runs up to 40% slower for minutes at a
time, and measuring the frameworks at different moments would let that
decide the ratios. Run with `make bench`."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "4096"))
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LOOM_EPOCHS = (2, 22)  # Loom's rate: (samples × 20 epochs) ÷ (time of 22 epochs − time of 2)
USER_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}

# (name, steps, features, cell, units)
TASKS = [("lstm 50 on 10x1", 10, 1, "lstm", 50), ("gru 50 on 10x1", 10, 1, "gru", 50),
         ("lstm 64 on 8x8 rows", 8, 8, "lstm", 64)]

LOOM_CODE = """set threads {threads}
data d = npy "{x}" labels "{y}"
model m {{
  input {steps}x{features}
  {cell} {units}
  dense 10 softmax
}}
train m on d epochs {epochs} batch 32
"""

TORCH_CODE = """
import time, numpy as np, torch, torch.nn as nn
torch.set_num_threads({threads}); torch.manual_seed(1)
x = torch.from_numpy(np.load("{x}")); y = torch.from_numpy(np.load("{y}")).long()
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{torch_cell}({features}, {units}, batch_first=True); self.out = nn.Linear({units}, 10)
    def forward(self, x):
        return self.out(self.rnn(x)[0][:, -1])
net = Net(); opt = torch.optim.Adam(net.parameters(), lr=1e-3); loss = nn.CrossEntropyLoss()
times = []
for epoch in range({epochs}):
    start = time.perf_counter()
    for i in range(0, len(x), 32):
        opt.zero_grad(); l = loss(net(x[i:i+32]), y[i:i+32]); l.backward(); opt.step()
    times.append(time.perf_counter() - start)
print(sorted(times[1:])[len(times[1:]) // 2])
"""

KERAS_CODE = """
import os, time
os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
import numpy as np, keras
x = np.load("{x}"); y = np.load("{y}")
model = keras.Sequential([keras.Input(({steps}, {features})), keras.layers.{keras_cell}({units}),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
times = []
class T(keras.callbacks.Callback):
    def on_epoch_begin(self, e, logs=None): self.t = time.perf_counter()
    def on_epoch_end(self, e, logs=None): times.append(time.perf_counter() - self.t)
model.fit(x, y, epochs={epochs}, batch_size=32, verbose=0, callbacks=[T()])
print(sorted(times[1:])[len(times[1:]) // 2])
"""


def pinned(threads, argv, **kwargs):
    """Runs argv on the first `threads` cores; returns (stdout, wall seconds, peak RSS in MiB)."""
    cores = ",".join(str(c) for c in range(threads))
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        result = subprocess.run(["taskset", "-c", cores, "/usr/bin/time", "-f", "%M", "-o", report.name, *argv],
                                capture_output=True, text=True, check=True, **kwargs)
        wall = time.perf_counter() - start
        return result.stdout, wall, int(report.read().strip().splitlines()[-1]) / 1024


def loom(task, threads, files):
    """One round of Loom: a run of few epochs and one of many; returns (few seconds, many seconds, peak MiB)."""
    _, steps, features, cell, units = task
    def run(epochs):
        code = LOOM_CODE.format(threads=threads, x=files[0], y=files[1], steps=steps, features=features, cell=cell,
                                units=units, epochs=epochs)
        return pinned(threads, [LOOM, "eval", "-"], input=code, env=USER_ENV)
    few, many = run(LOOM_EPOCHS[0]), run(LOOM_EPOCHS[1])
    return few[1], many[1], many[2]


def loom_rate(rounds):
    """Samples per second from the fastest run of each length, and the peak memory."""
    seconds = (min(many for _, many, _ in rounds) - min(few for few, _, _ in rounds)) / (LOOM_EPOCHS[1] - LOOM_EPOCHS[0])
    return SAMPLES / seconds, max(rss for _, _, rss in rounds)


def python(code, task, threads, files):
    _, steps, features, cell, units = task
    source = code.format(threads=threads, x=files[0], y=files[1], steps=steps, features=features, units=units,
                         epochs=EPOCHS, multi="true" if threads > 1 else "false",
                         torch_cell=cell.upper(), keras_cell={"lstm": "LSTM", "gru": "GRU"}[cell])
    out, _, rss = pinned(threads, [BENCH_PY, "-c", source], env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    return SAMPLES / float(out.strip().splitlines()[-1]), rss


def main():
    kernel = machine.describe(LOOM, USER_ENV)
    threads_list = [1, 2] if os.cpu_count() >= 2 else [1]
    rng = np.random.default_rng(1)
    print(f"{kernel}; {SAMPLES} samples, batch 32, Adam; best of {ROUNDS} rounds taken in turn")
    print(f"{'task':<24} {'threads':>7} {'framework':<12} {'samples/s':>10} {'vs loom':>8} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for task in TASKS:
            name, steps, features = task[:3]
            files = (f"{folder}/x-{steps}x{features}.npy", f"{folder}/y.npy")
            np.save(files[0], rng.uniform(-1, 1, (SAMPLES, steps, features)).astype(np.float32))
            np.save(files[1], rng.integers(0, 10, SAMPLES).astype(np.int64))
            for threads in threads_list:
                rounds = {"loom": [], "pytorch": [], "keras (jax)": []}
                for _ in range(ROUNDS):
                    rounds["loom"].append(loom(task, threads, files))
                    rounds["pytorch"].append(python(TORCH_CODE, task, threads, files))
                    try:
                        rounds["keras (jax)"].append(python(KERAS_CODE, task, threads, files))
                    except subprocess.CalledProcessError as error:
                        print(f"keras skipped: {error.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                results = {"loom": loom_rate(rounds.pop("loom"))}
                for framework, runs in rounds.items():
                    if runs:
                        results[framework] = (max(rate for rate, _ in runs), max(rss for _, rss in runs))
                base = results["loom"][0]
                for framework, (rate, rss) in results.items():
                    print(f"{name:<24} {threads:>7} {framework:<12} {rate:>10.0f} {base / rate:>7.2f}x {rss:>9.0f}")
    print("vs loom: how many times faster Loom is than each.")


if __name__ == "__main__":
    main()
