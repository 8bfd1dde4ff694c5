"""Pruned and clustered models saved compactly: the NumPy reader the
language reference documents rebuilds the kernels Loom holds."""

import re
import subprocess

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from conftest import LOOM, ROOT

MODEL = """seed 3
data g = glyphs n 300 size 12
model m {
  input 12x12x1
  flatten
  dense 32 relu
  dense 10 softmax
}
quiet { train m on g epochs 2 }
"""


def loom_eval(code):
    result = subprocess.run([LOOM, "eval", "-"], input=code, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def documented_reader():
    """The Python block of docs/language.md's Files section, run as written."""
    doc = (ROOT / "docs" / "language.md").read_text()
    code = re.search(r"With NumPy:\n\n  ```python\n(.*?)\n  ```", doc, re.S).group(1)
    namespace = {}
    exec("\n".join(line[2:] for line in code.splitlines()), namespace)
    return namespace["load_weights"]


def metadata(path):
    with safe_open(str(path), framework="numpy") as f:
        return f.metadata()


def dense_copy(path, tensors, to):
    """The rebuilt weights as a plain file of the old layout, masks where weights were pruned."""
    meta = {k: v for k, v in metadata(path).items() if k != "loom.layout"}
    plain = dict(tensors)
    for name, entry in __import__("json").loads(metadata(path)["loom.layout"]).items():
        if "gap_bits" in entry:
            plain[name + ".mask"] = (tensors[name] != 0).astype(np.float32)
    save_file(plain, str(to), metadata=meta)


def test_the_documented_reader_rebuilds_pruned_kernels_loom_saves_again_byte_for_byte(tmp_path):
    compact, dense = tmp_path / "pruned.safetensors", tmp_path / "dense.safetensors"
    loom_eval(MODEL + f'prune m 90%\nsave m "{compact}"\n')
    tensors = documented_reader()(str(compact))
    assert tensors["dense1.kernel"].shape == (144, 32) and tensors["dense1.kernel"].dtype == np.float32
    assert np.count_nonzero(tensors["dense1.kernel"]) == round(0.1 * 144 * 32)
    dense_copy(compact, tensors, dense)
    again = tmp_path / "again.safetensors"
    loom_eval(f'load m "{dense}"\nsave m "{again}"\n')
    assert again.read_bytes() == compact.read_bytes()


def test_the_documented_reader_rebuilds_clustered_kernels_that_predict_as_loom_does(tmp_path):
    compact, dense = tmp_path / "clustered.safetensors", tmp_path / "dense.safetensors"
    loom_eval(MODEL + f'prune m 70%\ncluster m 8\nquiet {{ train m on g epochs 1 }}\nsave m "{compact}"\n')
    assert '"layout":"sparse clustered"' in metadata(compact)["loom.layout"]
    tensors = documented_reader()(str(compact))
    for name in ["dense1.kernel", "dense2.kernel"]:
        kernel = tensors[name]
        assert len(np.unique(kernel[kernel != 0])) <= 8
        assert np.count_nonzero(kernel) == round(0.3 * kernel.size)
    dense_copy(compact, tensors, dense)
    def predictions(path):
        shown = loom_eval(f'data g = glyphs n 300 size 12\nload m "{path}"\npredict m on g first 20\n')
        return [line for line in shown.splitlines() if not line.startswith("Loaded")]
    assert predictions(compact) == predictions(dense)
