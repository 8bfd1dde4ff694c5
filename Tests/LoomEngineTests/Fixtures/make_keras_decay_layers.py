"""Makes keras-decay-layers.safetensors, the fixture WeightDecayLayersKerasTests
reads: tiny models with Keras 3's L2(l) regularizers on the kernels Loom's
`l2` decays (a depthwise and a separable convolution; an LSTM's kernel and
recurrent kernel), and a dense one trained by AdamW with its biases
excluded from the decay; random starting weights, a batch of inputs and
targets, and, after each of three full-batch steps (mse), the loss Keras
reports (the regularisers' share included) and the weights. Run once, with
the bench virtualenv:

    KERAS_BACKEND=torch .venv-bench/bin/python Tests/LoomEngineTests/Fixtures/make_keras_decay_layers.py
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
from safetensors.numpy import save_file

STEPS = 3
rng = np.random.default_rng(2028)
L2 = keras.regularizers.L2
layers = keras.layers


def adamw():
    optimizer = keras.optimizers.AdamW(learning_rate=0.05, weight_decay=0.2)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    return optimizer


models = {
    # depthwise 3x3 multiplier 2 tanh l2 0.03, separable 2 2x2 l2 0.02, flatten, dense 2 (SGD 0.1)
    "convolutions": (keras.Sequential([keras.Input((6, 6, 2)),
                                       layers.DepthwiseConv2D((3, 3), depth_multiplier=2, activation="tanh",
                                                              depthwise_regularizer=L2(0.03)),
                                       layers.SeparableConv2D(2, (2, 2), depthwise_regularizer=L2(0.02),
                                                              pointwise_regularizer=L2(0.02)),
                                       layers.Flatten(),
                                       layers.Dense(2)]), (6, 6, 2), 2, lambda: keras.optimizers.SGD(learning_rate=0.1)),
    # lstm 4 l2 0.05, dense 2 (SGD 0.1)
    "lstm": (keras.Sequential([keras.Input((5, 3)),
                               layers.LSTM(4, kernel_regularizer=L2(0.05), recurrent_regularizer=L2(0.05)),
                               layers.Dense(2)]), (5, 3), 2, lambda: keras.optimizers.SGD(learning_rate=0.1)),
    # dense 5 tanh, dense 2 (AdamW lr 0.05, weight decay 0.2, biases excluded)
    "adamw": (keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="tanh"), layers.Dense(2)]), (4,), 2, adamw),
}
tensors = {}
for key, (model, shape, outputs, optimizer) in models.items():
    x = rng.uniform(-1, 1, (8,) + shape).astype(np.float32)
    y = rng.uniform(-1, 1, (8, outputs)).astype(np.float32)
    # Random weights (not the initialisers'), biases too, so every weight matters.
    weights = [rng.uniform(-0.8, 0.8, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(weights)
    # Each weight as `key.L.name`, L counting the layers that hold weights from 0.
    names = [f"{key}.{i}.{v.name}" for i, layer in enumerate(l for l in model.layers if l.weights) for v in layer.weights]
    tensors[f"{key}.x"], tensors[f"{key}.y"] = x, y
    for name, w in zip(names, weights):
        tensors[f"{name}.start"] = w
    model.compile(optimizer=optimizer(), loss="mse")
    losses = [model.train_on_batch(x, y) for _ in range(STEPS)]
    tensors[f"{key}.losses"] = np.asarray(losses, np.float32)
    for name, w in zip(names, model.get_weights()):
        tensors[f"{name}.end"] = w
out = Path(__file__).with_name("keras-decay-layers.safetensors")
save_file(tensors, str(out), metadata={"keras": keras.__version__, "backend": keras.backend.backend(), "steps": str(STEPS)})
print(f"wrote {out} ({len(tensors)} tensors, Keras {keras.__version__})")
for name, t in tensors.items():
    print(name, t.shape, t.ravel()[:3])
