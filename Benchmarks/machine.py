"""What a benchmark ran on, for its first line: Loom's version with the BLAS
kernel OpenBLAS picked, and the processor (its name, widest SIMD, cores), so
figures from different machines are told apart; and the environments they
run in."""

import os
import subprocess

# The environment of a user's machine: without this machine's OpenBLAS pins.
USER_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
# One thread for every Python numerical library.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def processor():
    """'AMD EPYC (AVX2, 2 cores)' from /proc/cpuinfo; 'unknown processor' elsewhere."""
    try:
        info = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown processor"
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return f"{fields.get('model name', 'unknown processor')} ({simd}, {os.cpu_count()} cores)"


def describe(loom, env):
    """`loom --version` as the benchmark runs it (`env`), and the processor."""
    version = subprocess.run([loom, "--version"], capture_output=True, text=True, env=env).stdout.strip()
    return f"{version} on {processor()}"
