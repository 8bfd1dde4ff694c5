"""Files Loom shares with the Python world: models saved as safetensors load
in the `safetensors` package, and arrays NumPy saves load in Loom."""

import json
import subprocess
import sys

import numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open

from conftest import LOOM, SMALL_MODEL


def loom_eval(code):
    return subprocess.run([LOOM, "eval", "-"], input=code, capture_output=True, text=True, timeout=120)


MODEL = SMALL_MODEL + "train m on g epochs 1\n"


def test_a_saved_model_loads_in_python_safetensors(tmp_path):
    path = tmp_path / "m.safetensors"
    result = loom_eval(MODEL + f'save m "{path}"\n')
    assert result.returncode == 0, result.stderr
    tensors = load_file(str(path))
    assert {k: v.shape for k, v in tensors.items()} == {
        "conv1.kernel": (3, 3, 1, 4), "conv1.bias": (4,), "dense1.kernel": (100, 10), "dense1.bias": (10,)}
    assert all(v.dtype == np.float32 for v in tensors.values())
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata["loom.format"] == "loom-model-1"
    assert metadata["loom.definition"].startswith("model m {")
    assert metadata["loom.epochs"] == "1"


def test_python_can_change_the_weights_and_loom_loads_them(tmp_path):
    path = tmp_path / "m.safetensors"
    loom_eval(MODEL + f'save m "{path}"\n')
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    tensors = load_file(str(path))
    tensors["dense1.kernel"] = np.zeros_like(tensors["dense1.kernel"])
    tensors["dense1.bias"] = np.array([0, 0, 0, 5, 0, 0, 0, 0, 0, 0], dtype=np.float32)
    save_file(tensors, str(path), metadata=metadata)
    result = loom_eval(f'data g = glyphs n 20 size 12\nload m "{path}"\npredict m on g first 3\n')
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│") and "%" in line]
    assert all(line.split("│")[3].strip() == "3" for line in rows)  # the bias alone decides: class 3


def test_a_file_without_a_loom_definition_is_refused(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": np.ones((2, 2), dtype=np.float32)}, str(path))
    result = loom_eval(f'load m "{path}"\n')
    assert result.returncode == 1
    assert "no Loom model definition" in result.stderr


def test_numpy_arrays_load_as_data(tmp_path):
    x = np.arange(24, dtype=np.float64).reshape(4, 2, 3, 1) / 10
    y = np.array([0, 1, 2, 1], dtype=np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    result = loom_eval(f'data d = npy "{tmp_path / "x.npy"}" labels "{tmp_path / "y.npy"}"\nd\n')
    assert result.returncode == 0, result.stderr
    assert "d: data, 4 samples of 2x3x1, 3 classes" in result.stdout
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((3, 2))))
    result = loom_eval(f'data f = npy "{tmp_path / "f.npy"}"\n')
    assert result.returncode == 1 and "Fortran order" in result.stderr


def test_a_dictionary_travels_between_loom_and_python(tmp_path):
    """Atoms from NumPy (scikit-learn's components_, one atom a row, not of unit
    norm) load in Loom with a note; Loom saves them as the `atoms` tensor Python reads."""
    rng = np.random.default_rng(3)
    atoms = rng.normal(size=(12, 16)).astype(np.float32) * 3
    np.save(tmp_path / "atoms.npy", atoms)
    saved = tmp_path / "d.safetensors"
    result = loom_eval(f'data p = patches n 50 size 4\ndictionary D = npy "{tmp_path / "atoms.npy"}" shape 4x4\n'
                       f'codes C = encode p with D omp sparsity 3\nsave D "{saved}"\n')
    assert result.returncode == 0, result.stderr
    assert "12 of the 12 atoms" in result.stderr and "scaled" in result.stderr
    assert "3.0 nonzeros each" in result.stdout
    tensors = load_file(str(saved))
    assert list(tensors) == ["atoms"] and tensors["atoms"].dtype == np.float32
    expected = atoms / np.linalg.norm(atoms, axis=1, keepdims=True)
    assert np.allclose(tensors["atoms"], expected, atol=1e-6)
    with safe_open(str(saved), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata["loom.format"] == "loom-dictionary-1" and metadata["loom.shape"] == "4x4"


def test_a_learned_dictionary_loads_in_python(tmp_path):
    saved = tmp_path / "d.safetensors"
    result = loom_eval(f'data p = patches n 300 size 6\ndictionary D = learn p atoms 20 sparsity 3 iterations 3 center\n'
                       f'save D "{saved}"\n')
    assert result.returncode == 0, result.stderr
    atoms = load_file(str(saved))["atoms"]
    assert atoms.shape == (20, 36)
    assert np.allclose(np.linalg.norm(atoms, axis=1), 1, atol=1e-5)
    with safe_open(str(saved), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata["loom.centered"] == "true"
    assert len(metadata["loom.costs"].split(",")) == 3


def test_a_csv_of_one_huge_line_is_read_with_bounded_intermediates(tmp_path):
    # 10 million cells on one line (40 MB): the reader walks cells in place,
    # so the peak is the file and its values (a range per cell was 160 MB more).
    path = tmp_path / "line.csv"
    path.write_text(",".join(["123"] * 10_000_000) + "\n")
    program = tmp_path / "load.loom"
    program.write_text(f'set memory 256\ndata d = csv "{path}" label none\n')
    # A fresh Python measures its one child, so no earlier test's peak counts.
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stdout + r.stderr)")
    result = subprocess.run([sys.executable, "-c", measure, LOOM, "eval", str(program)], capture_output=True, text=True,
                            timeout=120)
    status, peak_kib = map(int, result.stdout.split("\n")[0].split())
    assert status == 0 and "1 samples of 10000000" in result.stdout, result.stdout
    assert peak_kib / 1024 < 150, f"peak {peak_kib / 1024:.0f} MiB"
