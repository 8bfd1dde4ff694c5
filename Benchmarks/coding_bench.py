"""Sparse coding side by side with scikit-learn, on the 8x8 digits (1,797 x
64, raw 0-16, as notebooks/data/digits.csv holds them), 100 atoms, one core:

- OMP coding with 5 nonzeros over a fixed dictionary (100 digits, unit norm)
  against `sparse_encode(algorithm='omp')`;
- K-SVD, 10 iterations, against `DictionaryLearning(fit_algorithm='cd',
  max_iter=10)` and against a textbook K-SVD in NumPy (exact SVD atom updates);
- online learning, 10 passes in batches of 256, against
  `MiniBatchDictionaryLearning(max_iter=10, batch_size=256)`.

Every dictionary is judged the same way: the relative error ||X - CD|| / ||X||
of OMP codes with 5 nonzeros. Times are the computation alone (Loom prints
its own; the Python side times the call), the median of several runs; peak
memory is each process's maximum resident set. Loom runs as a user's machine
runs it (this machine's OpenBLAS pins unset for its commands). Run with
`make bench`."""

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
DIGITS = ROOT / "notebooks" / "data" / "digits.csv"
ONE_THREAD, USER_ENV = machine.ONE_THREAD, machine.USER_ENV
RUNS = 5

PYTHON = r"""
import json, resource, sys, time
import numpy as np
from sklearn.decomposition import DictionaryLearning, MiniBatchDictionaryLearning, sparse_encode
from sklearn.linear_model import orthogonal_mp_gram
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)[:, :64]
atoms = np.load(sys.argv[2])
job, runs = sys.argv[3], int(sys.argv[4])

def error(d):
    d = d / np.linalg.norm(d, axis=1, keepdims=True)
    c = sparse_encode(x, d, algorithm="omp", n_nonzero_coefs=5)
    return float(np.linalg.norm(x - c @ d) / np.linalg.norm(x))

def ksvd(x, k=100, t=5, iterations=10, seed=0):
    # The textbook K-SVD: OMP codes, then each used atom and its coefficients
    # from the leading singular pair of the residual on its samples.
    rng = np.random.RandomState(seed)
    d = x[rng.choice(len(x), k, replace=False)].copy()
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    for _ in range(iterations):
        g = d @ d.T
        c = orthogonal_mp_gram(g, d @ x.T, n_nonzero_coefs=t).T
        for j in range(k):
            users = np.flatnonzero(c[:, j])
            if len(users) == 0:
                continue
            c[users, j] = 0
            e = x[users] - c[users] @ d
            u, s, vt = np.linalg.svd(e, full_matrices=False)
            d[j] = vt[0]
            c[users, j] = s[0] * u[:, 0]
    return d

def fit():
    if job == "omp":
        return lambda: sparse_encode(x, atoms, algorithm="omp", n_nonzero_coefs=5), lambda c: float(
            np.linalg.norm(x - c @ atoms) / np.linalg.norm(x))
    if job == "cd":
        return lambda: DictionaryLearning(100, fit_algorithm="cd", max_iter=10, random_state=0).fit(x).components_, error
    if job == "numpy-ksvd":
        return lambda: ksvd(x), error
    if job == "minibatch":
        return lambda: MiniBatchDictionaryLearning(100, batch_size=256, max_iter=10, random_state=0).fit(x).components_, error

run, judge = fit()
times, result = [], None
for _ in range(runs):
    start = time.perf_counter()
    result = run()
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "error": judge(result),
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def python(job, atoms, runs):
    out = subprocess.run(["taskset", "-c", "0", BENCH_PY, "-c", PYTHON, str(DIGITS), atoms, job, str(runs)],
                         capture_output=True, text=True, check=True, env={**os.environ, **ONE_THREAD}).stdout
    return json.loads(out.strip().splitlines()[-1])


def loom(program):
    """Loom's printed times (ms) and relative errors, and the process's peak memory (MiB)."""
    result = subprocess.run(["/usr/bin/time", "-f", "peak %M", "taskset", "-c", "0", LOOM, "eval", "-"], input=program,
                            capture_output=True, text=True, env=USER_ENV)
    assert result.returncode == 0, result.stderr
    times = [float(v) * (1000 if unit == "s" else 1) for v, unit in re.findall(r" in ([\d.,]+) (ms|s)\b", result.stdout)]
    errors = [float(v) for v in re.findall(r"relative error (\d\.\d+)", result.stdout)]
    peak = int(re.search(r"peak (\d+)", result.stderr).group(1)) / 1024
    return times, errors, peak


def main():
    kernel = machine.describe(LOOM, USER_ENV)
    x = np.loadtxt(DIGITS, delimiter=",", skiprows=1)[:, :64]
    rng = np.random.RandomState(0)
    atoms = x[rng.choice(len(x), 100, replace=False)]
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/atoms.npy"
        np.save(path, atoms.astype(np.float32))
        start = f'set threads 1\ndata d = csv "{DIGITS}"\n'
        judge = "codes J = encode d with D omp sparsity 5\n"
        rows = []

        times, errors, peak = loom(start + f'dictionary D = npy "{path}"\n' + judge * (2 * RUNS + 1))
        sk = python("omp", path, 2 * RUNS + 1)
        rows.append(("OMP coding, 5 nonzeros", sorted(times)[len(times) // 2], errors[-1], peak,
                     "sparse_encode(omp)", sk))

        times, errors, peak = loom(start + "dictionary D = learn d atoms 100 sparsity 5 method ksvd iterations 10\n" + judge)
        learned, ksvd_error, ksvd_own = times[0], errors[-1], errors[0]
        for name, job, runs in [("DictionaryLearning(cd)", "cd", 1), ("NumPy K-SVD (exact SVD)", "numpy-ksvd", 1)]:
            rows.append(("K-SVD, 10 iterations", learned, ksvd_error, peak, name, python(job, path, runs)))

        times, errors, peak = loom(start + "dictionary D = learn d atoms 100 sparsity 5 method online iterations 10 batch 256\n"
                                   + judge)
        rows.append(("online, 10 passes of 256", times[0], errors[-1], peak, "MiniBatchDictionaryLearning",
                     python("minibatch", path, 1)))

    print(f"{kernel}; sparse coding of the 8x8 digits (1,797 x 64), 100 atoms, one core")
    print(f"{'task':<26} {'loom ms':>9} {'error':>7} {'MiB':>5}   {'against':<27} {'ms':>9} {'error':>7} {'MiB':>5} {'loom faster':>12}")
    for task, ms, error, peak, name, other in rows:
        print(f"{task:<26} {ms:>9.1f} {error:>7.4f} {peak:>5.0f}   {name:<27} {other['seconds'] * 1000:>9.1f} "
              f"{other['error']:>7.4f} {other['peak_mib']:>5.0f} {other['seconds'] * 1000 / ms:>11.1f}x")
    print("error: ||X - CD|| / ||X|| of OMP codes with 5 nonzeros over each dictionary (lower is better).")
    print(f"Loom's K-SVD ends with its own codes (OMP, then refitted with the atoms) at {ksvd_own:.4f}.")


if __name__ == "__main__":
    main()
