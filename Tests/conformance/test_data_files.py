"""Files Loom shares with the Python world: models saved as safetensors load
in the `safetensors` package, and arrays NumPy saves load in Loom."""

import json
import subprocess

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
