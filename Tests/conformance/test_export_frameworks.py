"""Models that leave Loom and come back: `loom_jupyter.to_keras` and
`to_torch` rebuild every layer kind of a model Loom trained and saved, and
predict what Loom predicts on the same inputs; `from_keras` and
`from_torch` write files Loom's `load` reads and predicts the same with.

Keras runs on its torch backend (KERAS_BACKEND=torch, set below before
Keras is imported); both frameworks are installed by `make test` from
Tests/conformance/requirements.txt, so a missing one fails the tests."""

import os
import re
import subprocess

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import loom_jupyter  # noqa: E402
from loom_jupyter.saved import LoomExportError  # noqa: E402

from conftest import LOOM  # noqa: E402

SAMPLES = 48
SHOWN = 16
# Loom's `predict` prints values to 4 decimals.
TOLERANCE = 2e-4

# (id, input shape, layer lines, statements after training): every layer kind and option.
MODELS = [
    ("dense-activations", (10,), "dense 12 relu\ndense 8 tanh\ndense 6 sigmoid\ndense 3 softmax", ""),
    ("conv2d-same-stride", (8, 8, 2), "conv2d 4 3x3 relu stride 2 padding same\nflatten\ndense 3", ""),
    ("conv2d-groups-even-kernel", (8, 8, 4), "conv2d 6 2x2 tanh groups 2 padding same\nconv2d 4 3x3 sigmoid\nflatten\ndense 3", ""),
    ("conv2d-softmax", (6, 6, 2), "conv2d 3 3x3 softmax\nflatten\ndense 3", ""),
    ("depthwise", (8, 8, 3), "depthwise 3x3 multiplier 2 relu stride 2 padding same\nflatten\ndense 3", ""),
    ("separable", (8, 8, 3), "separable 5 3x3 multiplier 2 tanh padding same\nseparable 4 2x2 stride 2\nflatten\ndense 3", ""),
    ("local2d", (7, 7, 2), "local2d 3 3x3 relu stride 2 padding same\nlocal2d 2 2x2\nflatten\ndense 3", ""),
    ("pooling", (9, 9, 2), "conv2d 4 2x2 relu\nmaxpool 2x2\navgpool 2x2 stride 1\nflatten\ndense 3", ""),
    ("pooling-stride", (9, 9, 2), "maxpool 3x3 stride 2\nflatten\ndropout 0.3\ndense 3", ""),
    ("batchnorm-image", (6, 6, 2), "conv2d 3 3x3\nbatchnorm momentum 0.9 epsilon 0.01\nflatten\nbatchnorm\ndense 3", ""),
    ("layernorm-reshape", (12,), "dense 8 relu\nlayernorm\nreshape 2x2x2\nconv2d 2 2x2\nflatten\ndense 3", ""),
    ("conv1d-local1d", (12, 3), "conv1d 4 3 relu padding same stride 2\nmaxpool1d 2\nlocal1d 3 2 tanh\nflatten\ndense 3", ""),
    ("globalpool", (10, 3), "conv1d 4 3 relu\nglobalpool max\ndense 3", ""),
    ("globalpool-image", (6, 6, 2), "conv2d 4 3x3 relu\nglobalpool avg\ndense 3", ""),
    ("rnn", (6, 3), "rnn 5 tanh sequences\nrnn 4 relu\ndense 3", ""),
    ("lstm", (6, 3), "lstm 5 sequences\nlstm 4 bidirectional\ndense 3", ""),
    ("gru", (6, 3), "gru 5 sequences bidirectional\ngru 4\ndense 3", ""),
    ("kwta-threshold", (10,), "dense 16 relu\nkwta 25% boost 1.5 inference 6\nthreshold 0.05\ndense 3", ""),
    ("kwta-image", (6, 6, 2), "conv2d 4 3x3\nkwta 2\nconv2d 4 2x2\nkwta 10% global\nflatten\ndense 3", ""),
    ("hashed-sparse", (10,), "dense 16 relu hashed 40\ndense 8 tanh sparse 50%\ndense 3", ""),
    ("pruned", (8, 8, 1), "conv2d 4 3x3 relu\nflatten\ndense 12 relu\ndense 3", "prune m 60%"),
    ("clustered", (10,), "dense 12 relu\ndense 3", "cluster m 4"),
    ("shared-tied", (10,), "dense 10 relu as enc\ndense 10 tanh share enc\ndense 10 sigmoid tied enc\ndense 3", ""),
    ("activity", (10,), "dense 8 sigmoid\nactivity l1 0.001\ndense 6 relu\nactivity kl 0.2\ndense 3", ""),
    ("lista", (10,), "lista 3 from D alpha 0.05\ndense 3", ""),
]


def loom(code, cwd):
    result = subprocess.run([LOOM, "eval", "-"], input=code, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def loom_predictions(output, width):
    """The values `predict` shows for a model with `width` outputs (each row: sample, true, predicted, error)."""
    rows = []
    for line in output.splitlines():
        numbers = re.findall(r"-?\d+\.\d+|-?\d+", line)
        if line.startswith("│") and len(numbers) == 1 + 2 * width + 1:
            rows.append([float(v) for v in numbers[1 + width:1 + 2 * width]])
    assert len(rows) == SHOWN, output
    return np.array(rows, np.float32)


def write_data(folder, shape, seed=0):
    random = np.random.default_rng(seed)
    x = random.random((SAMPLES,) + shape, dtype=np.float32)
    targets = random.random((SAMPLES, 3), dtype=np.float32)
    np.save(folder / "x.npy", x)
    np.save(folder / "t.npy", targets)
    return x


def predict_in_loom(folder, path):
    """Loom's own predictions of the model saved at `path` on the first samples of x.npy."""
    shown = loom(f'data d = npy "x.npy" targets "t.npy"\nload m "{path}"\npredict m on d first {SHOWN}\n', folder)
    return loom_predictions(shown, 3)


def train_and_save(folder, shape, layers, after):
    dictionary = "dictionary D = learn d atoms 6 sparsity 2\n" if "lista" in layers else ""
    body = "\n".join("  " + line for line in layers.splitlines())
    loom(f'seed 2\ndata d = npy "x.npy" targets "t.npy"\n{dictionary}'
         f'model m {{\n  input {"x".join(map(str, shape))}\n{body}\n}}\n'
         f'quiet {{ train m on d epochs 3 batch 16 loss mse }}\n{after}\nsave m "m.safetensors"\n', folder)
    return folder / "m.safetensors"


def keras_predictions(model, x):
    return np.asarray(model.predict(x, verbose=0))


def torch_predictions(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("name,shape,layers,after", MODELS, ids=[m[0] for m in MODELS])
def test_keras_and_torch_predict_what_loom_predicts(tmp_path, name, shape, layers, after):
    x = write_data(tmp_path, shape)
    path = train_and_save(tmp_path, shape, layers, after)
    expected = predict_in_loom(tmp_path, path)
    assert np.ptp(expected) > 0.01, "the model's outputs barely vary: the comparison would prove little"
    in_keras = keras_predictions(loom_jupyter.to_keras(str(path)), x[:SHOWN])
    in_torch = torch_predictions(loom_jupyter.to_torch(str(path)), x[:SHOWN])
    np.testing.assert_allclose(in_keras, expected, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(in_torch, expected, atol=TOLERANCE, rtol=0)
