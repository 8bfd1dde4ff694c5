"""`export M "m.onnx"`: models of every layer kind, trained a little in the
real kernel, exported, checked by ONNX's own checker and run by onnxruntime,
whose predictions must be Loom's.

Loom's predictions are compared through statements that exist: onnxruntime's
outputs become the targets of a data set (`data d = npy X targets Y`), and
`evaluate` on it gives the mean squared difference, printed to 12 significant
digits. The largest difference of any value is at most sqrt(mse · values).
"""

import math
import re

import numpy as np
import onnx
import onnxruntime
import pytest

from conftest import RunningKernel

TOLERANCE = 1e-5  # relative to the outputs' largest magnitude (and at least 1e-5 absolute)

# name: (input shape, output shape, model lines, what runs after training)
MODELS = {
    "dense_activations": ((6,), (4,), """
  dense 8 relu
  dense 8 tanh
  dense 8 sigmoid
  dense 8 linear
  dense 4 softmax""", ""),
    "shared_and_tied": ((6,), (6,), """
  dense 6 tanh
  dense 6 tanh share dense1
  dense 3 sigmoid
  dense 6 linear tied dense3""", ""),
    "pruned_and_clustered": ((8,), (3,), """
  dense 16 relu
  dense 12 relu sparse 50%
  dense 3 softmax""", "prune m 60%\ncluster m 4"),
    "hashed": ((8,), (3,), """
  dense 8 relu hashed 20
  dense 3 linear""", ""),
    "conv2d_groups_pooling": ((8, 8, 2), (3,), """
  conv2d 4 3x3 relu stride 2 padding same
  conv2d 4 3x3 tanh groups 2 padding same
  maxpool 2
  avgpool 2x1 stride 1
  flatten
  dense 3 softmax""", ""),
    "depthwise_separable": ((7, 7, 3), (2,), """
  depthwise 3x3 multiplier 2 relu padding same
  separable 4 3x3 sigmoid stride 2 padding same
  globalpool avg
  dense 2 linear""", ""),
    "local2d_reshape": ((12,), (2,), """
  dense 50 relu
  reshape 5x5x2
  local2d 3 3x3 relu stride 2 padding same
  local2d 2 2x2 tanh
  flatten
  dense 2 linear""", ""),
    "sequence_convolutions": ((10, 3), (2,), """
  conv1d 4 3 relu padding same
  maxpool1d 2
  local1d 3 2 tanh
  conv1d 3 2 linear stride 2
  globalpool max
  dense 2 linear""", ""),
    "recurrent": ((6, 2), (2,), """
  rnn 4 relu sequences
  lstm 3 sequences bidirectional
  gru 3 tanh
  dense 2 linear""", ""),
    "recurrent_other_activations": ((5, 2), (5, 4), """
  lstm 3 linear sequences
  rnn 3 sigmoid sequences bidirectional
  gru 2 sigmoid sequences bidirectional""", ""),
    "normalisation_and_selection": ((10,), (3,), """
  dense 12 relu
  batchnorm
  dropout 0.3
  layernorm
  activity l1 0.001
  threshold 0.05
  kwta 4 boost 1
  dense 3 softmax""", ""),
    "kwta_on_images": ((4, 4, 2), (2,), """
  conv2d 3 3x3 linear padding same
  kwta 1
  conv2d 3 3x3 linear
  kwta 2 global inference 3
  flatten
  dense 2 linear""", ""),
    "lista": ((16,), (2,), """
  lista 3 from D alpha 0.05
  dense 2 linear""", ""),
}


def run(kernel, code):
    """Runs a cell; returns its text output, failing on an error."""
    texts, errors = [], []

    def hook(msg):
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            texts.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            texts.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    kernel.client.execute_interactive(code, output_hook=hook, timeout=120)
    assert not errors, errors[0]
    return "".join(texts)


@pytest.fixture(scope="module")
def loom(tmp_path_factory):
    k = RunningKernel(tmp_path_factory.mktemp("kernel"))
    yield k
    k.stop()


def samples(shape, n, seed):
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", list(MODELS))
def test_onnxruntime_predicts_what_loom_predicts(loom, tmp_path, name):
    input_shape, output_shape, lines, after = MODELS[name]
    train_x, test_x = samples(input_shape, 64, 1), samples(input_shape, 40, 2)
    np.save(tmp_path / "train_x.npy", train_x)
    np.save(tmp_path / "train_y.npy", np.random.default_rng(3).uniform(size=(64, *output_shape)).astype(np.float32))
    np.save(tmp_path / "test_x.npy", test_x)
    np.save(tmp_path / "atoms.npy", np.random.default_rng(4).normal(size=(12, 16)).astype(np.float32))
    path = tmp_path / "m.onnx"
    shown = run(loom, f"""reset
seed 5
dictionary D = npy "{tmp_path}/atoms.npy"
data t = npy "{tmp_path}/train_x.npy" targets "{tmp_path}/train_y.npy"
model m {{
  input {"x".join(map(str, input_shape))}{lines}
}}
quiet {{ train m on t epochs 3 batch 16 loss mse }}
{after}
export m "{path}"
""")
    assert f"Exported m to {path} (ONNX, opset 17)" in shown

    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    predicted = session.run(None, {"input": test_x})[0]
    assert predicted.shape == (40, *output_shape)
    assert np.all(np.isfinite(predicted))

    np.save(tmp_path / "onnx_y.npy", predicted)
    shown = run(loom, f"""quiet {{
  data d = npy "{tmp_path}/test_x.npy" targets "{tmp_path}/onnx_y.npy"
  r = evaluate m on d
}}
print r.mse
""")
    mse = float(shown.strip())
    largest = math.sqrt(mse * predicted.size)
    assert largest <= TOLERANCE * max(1.0, float(np.abs(predicted).max())), (name, largest)


def test_the_export_notes_weights_written_as_their_dense_equivalents(loom, tmp_path):
    shown = run(loom, f"""reset
seed 1
model m {{
  input 8
  dense 8 relu hashed 10
  dense 6 relu
  dense 2 linear
}}
prune m 50% layer dense2
cluster m 3 layer dense3
export m "{tmp_path}/m.onnx"
""")
    assert "note: dense1 is hashed: its 8x8 virtual kernel is written dense (from 10 real weights)" in shown
    assert re.search(r"note: dense2\.kernel is pruned: written dense, its \d+ zeros included", shown)
    assert "note: dense3.kernel is clustered: written dense, each weight as its centroid" in shown


def test_other_extensions_and_missing_folders_are_refused(loom, tmp_path):
    run(loom, "reset\nmodel m {\n  input 2\n  dense 1\n}\n")
    for line, message in [
        (f'export m "{tmp_path}/m.safetensors"', "`export` writes ONNX files, named *.onnx"),
        (f'export m "{tmp_path}/missing/m.onnx"', "there is no folder"),
    ]:
        with pytest.raises(AssertionError, match=re.escape(message)):
            run(loom, line)
    assert not (tmp_path / "m.safetensors").exists()
