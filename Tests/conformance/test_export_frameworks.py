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
import sys

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
    ("batchnorm-sequence", (6, 3), "conv1d 4 2 relu\nbatchnorm\nlayernorm\nflatten\ndense 3", ""),
    ("layernorm-reshape", (12,), "dense 8 relu\nlayernorm\nreshape 2x2x2\nconv2d 2 2x2\nflatten\ndense 3", ""),
    ("conv1d-local1d", (12, 3), "conv1d 4 3 relu padding same stride 2\nmaxpool1d 2\nlocal1d 3 2 tanh\nflatten\ndense 3", ""),
    ("conv1d-pool1d", (12, 3), "conv1d 4 3 relu padding same stride 2\nmaxpool1d 2 stride 1\nconv1d 3 2 tanh\nflatten\ndense 3", ""),
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
    ("shared-conv-norm", (8, 8, 2), "conv2d 2 3x3 relu padding same as c\nconv2d 2 3x3 tanh padding same share c\n"
     "layernorm as n\nlayernorm share n\nflatten\ndense 3", ""),
    ("shared-recurrent", (6, 3), "gru 3 sequences as r\ngru 3 sequences share r\nlstm 4 bidirectional as l\ndense 3", ""),
    ("activity", (10,), "dense 8 sigmoid\nactivity l1 0.001\ndense 6 relu\nactivity kl 0.2\ndense 3", ""),
    ("lista", (10,), "lista 3 from D alpha 0.05\ndense 3", ""),
    ("weight-decay", (6, 3), "conv1d 4 2 tanh l2 0.02\nflatten\ndense 8 relu l2 0.01 as enc\ndense 20 sigmoid tied enc l2 0.01\n"
     "dense 3 l2 0.5", ""),
    ("weight-decay-image", (8, 8, 2), "depthwise 3x3 tanh multiplier 2 l2 0.03\nseparable 3 2x2 relu l2 0.02\n"
     "local2d 2 2x2 tanh l2 0.04\nflatten\ndense 3", ""),
    ("weight-decay-sequence", (6, 3), "lstm 4 sequences l2 0.05\ngru 3 sequences bidirectional l2 0.01\n"
     "local1d 2 2 tanh l2 0.02\nflatten\ndense 3 l2 0.1", ""),
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


# Models whose layers Keras and torch both have and Loom reads back: exported, imported again, loaded in Loom.
ROUND_TRIPS = ["dense-activations", "conv2d-same-stride", "conv2d-groups-even-kernel", "pooling", "pooling-stride",
               "batchnorm-image", "batchnorm-sequence", "layernorm-reshape", "globalpool", "globalpool-image", "rnn", "lstm", "gru", "pruned"]
# Loom's own layers (k-winners, threshold, locally connected, LISTA, a tied decoder) come back from either framework too.
OWN_LAYERS = ["kwta-threshold", "kwta-image", "local2d", "conv1d-local1d", "lista", "hashed-sparse", "clustered", "activity",
              "weight-decay", "weight-decay-image", "weight-decay-sequence"]
KERAS_ROUND_TRIPS = ROUND_TRIPS + OWN_LAYERS + ["depthwise", "separable", "conv1d-pool1d"]


def model_case(name):
    return next(case for case in MODELS if case[0] == name)


@pytest.mark.parametrize("name", KERAS_ROUND_TRIPS)
def test_from_keras_writes_what_loom_loads_and_predicts_the_same(tmp_path, name):
    _, shape, layers, after = model_case(name)
    write_data(tmp_path, shape)
    path = train_and_save(tmp_path, shape, layers, after)
    back = loom_jupyter.from_keras(loom_jupyter.to_keras(str(path)), str(tmp_path / "back.safetensors"))
    np.testing.assert_allclose(predict_in_loom(tmp_path, back), predict_in_loom(tmp_path, path), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("name", ROUND_TRIPS + OWN_LAYERS + ["conv1d-pool1d", "separable", "depthwise", "shared-tied"])
def test_from_torch_writes_what_loom_loads_and_predicts_the_same(tmp_path, name):
    _, shape, layers, after = model_case(name)
    write_data(tmp_path, shape)
    path = train_and_save(tmp_path, shape, layers, after)
    back = loom_jupyter.from_torch(loom_jupyter.to_torch(str(path)), shape, str(tmp_path / "back.safetensors"))
    np.testing.assert_allclose(predict_in_loom(tmp_path, back), predict_in_loom(tmp_path, path), atol=TOLERANCE, rtol=0)


def assert_loom_predicts_as_keras_once_trained(tmp_path, model, x):
    """Trains `model` briefly in Keras, writes it with from_keras, and compares Loom's predictions with Keras's."""
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.load(tmp_path / "t.npy"), epochs=2, batch_size=16, verbose=0)
    path = loom_jupyter.from_keras(model, str(tmp_path / "keras.safetensors"))
    np.testing.assert_allclose(predict_in_loom(tmp_path, path), keras_predictions(model, x[:SHOWN]), atol=TOLERANCE, rtol=0)


def test_a_keras_model_trained_in_keras_predicts_the_same_in_loom(tmp_path):
    keras.utils.set_random_seed(1)
    x = write_data(tmp_path, (10, 10, 2))
    model = keras.Sequential([
        keras.Input((10, 10, 2)),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(4, (2, 2), strides=2, groups=2),
        keras.layers.Activation("tanh"),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(8, activation="sigmoid"),
        keras.layers.Dense(3),
    ])
    assert_loom_predicts_as_keras_once_trained(tmp_path, model, x)


def test_a_keras_recurrent_model_predicts_the_same_in_loom(tmp_path):
    keras.utils.set_random_seed(2)
    x = write_data(tmp_path, (7, 3))
    model = keras.Sequential([
        keras.Input((7, 3)),
        keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)),
        keras.layers.LSTM(5),
        keras.layers.Dense(3),
    ])
    assert_loom_predicts_as_keras_once_trained(tmp_path, model, x)


def test_a_channels_first_torch_model_predicts_the_same_in_loom(tmp_path):
    """torch's images are channels first: the kernels, and the columns after flattening, are reordered for Loom."""
    torch.manual_seed(3)
    x = write_data(tmp_path, (10, 10, 2))
    module = torch.nn.Sequential(
        torch.nn.Conv2d(2, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.BatchNorm2d(6),
        torch.nn.MaxPool2d(2),
        torch.nn.Sequential(torch.nn.Conv2d(6, 4, 2, stride=2, groups=2), torch.nn.Tanh()),
        torch.nn.Flatten(), torch.nn.Dropout(0.2),
        torch.nn.Linear(16, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 3),
    )
    channels_first = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    optimizer = torch.optim.Adam(module.parameters())
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(module(channels_first), torch.from_numpy(np.load(tmp_path / "t.npy"))).backward()
        optimizer.step()
    module.eval()
    path = loom_jupyter.from_torch(module, (2, 10, 10), str(tmp_path / "torch.safetensors"))
    with torch.no_grad():
        expected = module(channels_first[:SHOWN]).numpy()
    np.testing.assert_allclose(predict_in_loom(tmp_path, path), expected, atol=TOLERANCE, rtol=0)


def test_a_torch_recurrent_model_predicts_the_same_in_loom(tmp_path):
    torch.manual_seed(4)
    x = write_data(tmp_path, (7, 3))
    from loom_jupyter.torch_export import RecurrentOutput
    module = torch.nn.Sequential(
        torch.nn.GRU(3, 4, batch_first=True, bidirectional=True), RecurrentOutput(sequences=True, bidirectional=True),
        torch.nn.LSTM(8, 5, batch_first=True), RecurrentOutput(sequences=False, bidirectional=False),
        torch.nn.Linear(5, 3),
    ).eval()
    for p in module.parameters():
        torch.nn.init.uniform_(p, -0.6, 0.6)
    path = loom_jupyter.from_torch(module, (7, 3), str(tmp_path / "torch.safetensors"))
    np.testing.assert_allclose(predict_in_loom(tmp_path, path), torch_predictions(module, x[:SHOWN]), atol=TOLERANCE, rtol=0)


def test_layers_loom_does_not_have_are_refused_by_name(tmp_path):
    embedding = keras.Sequential([keras.Input((4,)), keras.layers.Embedding(10, 3), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(LoomExportError, match="Loom has no embedding layer"):
        loom_jupyter.from_keras(embedding, str(tmp_path / "e.safetensors"))
    dilated = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, dilation_rate=2)])
    with pytest.raises(LoomExportError, match="dilated"):
        loom_jupyter.from_keras(dilated, str(tmp_path / "d.safetensors"))
    with pytest.raises(LoomExportError, match="PyTorch's GELU"):
        loom_jupyter.from_torch(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.GELU()), (4,), str(tmp_path / "g.safetensors"))
    with pytest.raises(LoomExportError, match="embedding"):
        loom_jupyter.from_torch(torch.nn.Sequential(torch.nn.Embedding(10, 3)), (4,), str(tmp_path / "t.safetensors"))
    assert not list(tmp_path.glob("*.safetensors"))


def test_a_recurrent_activation_torch_lacks_is_refused_by_name(tmp_path):
    write_data(tmp_path, (6, 3))
    path = train_and_save(tmp_path, (6, 3), "lstm 4 relu\ndense 3", "")
    with pytest.raises(LoomExportError, match="LSTM has no `relu` activation"):
        loom_jupyter.to_torch(str(path))
    assert loom_jupyter.to_keras(str(path)).layers[1].activation.__name__ == "relu"


def test_the_companion_imports_without_the_frameworks_and_says_what_to_install():
    code = ("import sys\nsys.modules['torch'] = None\nsys.modules['keras'] = None\nimport loom_jupyter\n"
            "for f in (lambda: loom_jupyter.to_torch('m'), lambda: loom_jupyter.to_keras('m')):\n"
            "    try:\n        f()\n    except ImportError as e:\n        print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "needs torch" in result.stdout and "pip install torch" in result.stdout
    assert "needs keras" in result.stdout and "pip install keras" in result.stdout


@pytest.mark.parametrize("name", ["kwta-threshold", "local2d", "conv1d-local1d", "lista"])
def test_loom_layers_in_keras_survive_a_keras_file(tmp_path, name):
    _, shape, layers, after = model_case(name)
    x = write_data(tmp_path, shape)
    model = loom_jupyter.to_keras(str(train_and_save(tmp_path, shape, layers, after)))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_predictions(again, x[:SHOWN]), keras_predictions(model, x[:SHOWN]), atol=1e-6, rtol=0)


def test_a_pruned_model_predicts_the_same_in_loom_keras_torch_and_onnxruntime(tmp_path):
    """One pruned network, four runtimes: Loom's `predict`, `to_keras`, `to_torch`
    and onnxruntime on the file `export` writes agree on every output."""
    import onnxruntime

    shape = (8, 8, 1)
    x = write_data(tmp_path, shape)
    path = train_and_save(tmp_path, shape, "conv2d 8 3x3 relu padding same\nmaxpool 2\nflatten\ndense 32 relu\ndense 3",
                          "prune m 90%")
    loom('load m "m.safetensors"\nexport m "m.onnx"\n', tmp_path)
    expected = predict_in_loom(tmp_path, path)
    assert np.ptp(expected) > 0.01, "the model's outputs barely vary: the comparison would prove little"
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    runtimes = {
        "keras": keras_predictions(loom_jupyter.to_keras(str(path)), x[:SHOWN]),
        "torch": torch_predictions(loom_jupyter.to_torch(str(path)), x[:SHOWN]),
        "onnxruntime": session.run(None, {session.get_inputs()[0].name: x[:SHOWN]})[0],
    }
    for name, values in runtimes.items():
        np.testing.assert_allclose(values, expected, atol=TOLERANCE, rtol=0, err_msg=name)
        # The frameworks agree with each other to float rounding, closer than Loom's printed decimals.
        np.testing.assert_allclose(values, runtimes["keras"], atol=1e-5, rtol=0, err_msg=name)
        print(f"{name}: largest difference from Loom's predict {np.abs(values - expected).max():.2e}")


SGD_RATE = 0.1


def one_sgd_step_in_loom(folder, name):
    """Model case `name` trained and saved as m.safetensors, then one full-batch SGD step of it in Loom,
    saved as after.safetensors: (shape, layers, inputs, targets, the saved path, the stepped tensors)."""
    _, shape, layers, _ = model_case(name)
    x = write_data(folder, shape)
    targets = np.load(folder / "t.npy")
    path = train_and_save(folder, shape, layers, "")
    loom(f'data d = npy "x.npy" targets "t.npy"\nload m "{path}"\n'
         f'quiet {{ train m on d epochs 1 batch {SAMPLES} optimizer sgd lr {SGD_RATE} loss mse }}\nsave m "after.safetensors"\n',
         folder)
    return shape, layers, x, targets, path, loom_jupyter.saved.SavedModel(str(folder / "after.safetensors")).tensors


def test_weight_decay_trains_the_same_in_loom_keras_and_torch(tmp_path):
    """`l2 λ` leaves Loom as Keras's kernel_regularizer L2(λ) and as torch parameter groups with weight_decay
    2λ, and comes back from Keras as `l2 λ`: one full-batch SGD step from the same saved weights gives the
    same kernels in all three (a tied decoder's kernel decayed once, the biases not at all)."""
    shape, layers, x, targets, path, after = one_sgd_step_in_loom(tmp_path, "weight-decay")
    rate = SGD_RATE

    in_keras = loom_jupyter.to_keras(str(path))
    decays = {layer.name: layer.kernel_regularizer.l2 for layer in in_keras.layers if getattr(layer, "kernel_regularizer", None)}
    assert decays == pytest.approx({"conv1": 0.02, "enc": 0.01, "dense3": 0.5})
    in_keras.compile(optimizer=keras.optimizers.SGD(learning_rate=rate), loss="mse")
    in_keras.train_on_batch(x, targets)
    for name in ("conv1", "enc", "dense3"):
        np.testing.assert_allclose(in_keras.get_layer(name).kernel.numpy(), after[f"{name}.kernel"], atol=1e-6, rtol=0, err_msg=name)

    in_torch = loom_jupyter.to_torch(str(path))
    assert sorted(lam for _, lam in in_torch.decayed) == pytest.approx([0.01, 0.02, 0.5])
    optimizer = torch.optim.SGD(in_torch.parameter_groups(), lr=rate)
    torch.nn.functional.mse_loss(in_torch(torch.from_numpy(x)), torch.from_numpy(targets)).backward()
    optimizer.step()
    kernels = {id(p): p for p, _ in in_torch.decayed}
    linears = [m for m in in_torch if isinstance(m, torch.nn.Linear)]
    convs = [m for m in in_torch if isinstance(m, torch.nn.Conv1d)]
    assert all(id(m.weight) in kernels for m in linears + convs)
    np.testing.assert_allclose(convs[0].weight.detach().numpy().transpose(2, 1, 0), after["conv1.kernel"], atol=1e-6, rtol=0)
    for module, name in zip(linears, ("enc", "dense3")):
        np.testing.assert_allclose(module.weight.detach().numpy().T, after[f"{name}.kernel"], atol=1e-6, rtol=0, err_msg=name)

    back = loom_jupyter.from_keras(loom_jupyter.to_keras(str(path)), str(tmp_path / "back.safetensors"))
    definition = loom_jupyter.saved.SavedModel(back).metadata["loom.definition"]
    assert "l2 0.02" in definition and "l2 0.01" in definition and "l2 0.5" in definition, definition


@pytest.mark.parametrize("name,decayed,kernels", [("weight-decay-image", 4, 5), ("weight-decay-sequence", 8, 8)])
def test_weight_decay_on_every_kernel_family_trains_the_same_in_loom_keras_and_torch(tmp_path, name, decayed, kernels):
    """`l2 λ` on depthwise, separable, locally connected and recurrent layers leaves Loom as Keras's
    depthwise_, pointwise_, kernel_ and recurrent_regularizer L2(λ) and as torch parameter groups over every
    kernel (`decayed` lists them: a separable layer's two, a recurrent cell's input and recurrent weights,
    never a bias); one full-batch SGD step from the same saved weights gives the same weights in all three,
    brought back to Loom's layout by from_keras and from_torch, and from_keras keeps each `l2 λ`."""
    shape, layers, x, targets, path, after = one_sgd_step_in_loom(tmp_path, name)
    rate = SGD_RATE
    before = loom_jupyter.saved.SavedModel(str(path)).tensors

    def blocks(saved):
        return [layer.name for layer in saved.layers if any(key.startswith(layer.name + ".") for key in saved.tensors)]

    def assert_same_step(back, framework, parts):
        # Block by block: the frameworks' files name some blocks apart (`local2d1` for Loom's `local1`).
        saved = loom_jupyter.saved.SavedModel(str(back))
        ours = dict(zip(blocks(saved), blocks(loom_jupyter.saved.SavedModel(str(path)))))
        stepped = {ours[name.split(".", 1)[0]] + "." + name.split(".", 1)[1]: value for name, value in saved.tensors.items()}
        assert sorted(stepped) == sorted(after), framework
        for key, expected in after.items():
            if not parts(key):
                continue
            assert np.abs(expected - before[key]).max() > 1e-5, f"{key} did not move: the comparison would prove little"
            np.testing.assert_allclose(stepped[key], expected, atol=2e-6, rtol=0, err_msg=f"{framework}: {key}")

    in_keras = loom_jupyter.to_keras(str(path))
    in_keras.compile(optimizer=keras.optimizers.SGD(learning_rate=rate), loss="mse")
    in_keras.train_on_batch(x, targets)
    back = loom_jupyter.from_keras(in_keras, str(tmp_path / "keras.safetensors"))
    assert_same_step(back, "keras", lambda key: True)
    definition = loom_jupyter.saved.SavedModel(back).metadata["loom.definition"]
    for lam in re.findall(r"l2 [0-9.]+", layers):
        assert lam in definition, (lam, definition)

    in_torch = loom_jupyter.to_torch(str(path))
    assert len(in_torch.decayed) == decayed
    # AdamW's groups: every kernel, `l2` or not (the image model's last dense layer has none).
    assert len(in_torch.adamw_groups()[0]["params"]) == kernels
    optimizer = torch.optim.SGD(in_torch.parameter_groups(), lr=rate)
    torch.nn.functional.mse_loss(in_torch(torch.from_numpy(x)), torch.from_numpy(targets)).backward()
    optimizer.step()
    if name == "weight-decay-image":
        return  # torch has no depthwise or separable layer: from_torch brings them back as grouped conv2d layers
    # torch's recurrent layers hold two biases whose sum is Loom's, so SGD moves that sum twice as far: kernels only.
    assert_same_step(loom_jupyter.from_torch(in_torch, shape, str(tmp_path / "torch.safetensors")), "torch",
                     lambda key: not key.endswith("bias"))
