"""Makes keras-weight-decay.safetensors, the fixture WeightDecayKerasTests
reads: two tiny models whose kernels carry `kernel_regularizer=L2(l)` (a
dense one, and a conv2d, flatten, dense one), random starting weights, a
batch of inputs and targets, and, after each of three full-batch SGD steps
(mse, learning rate 0.1), the loss Keras reports (the regularisers' share
included) and the weights. Run once, with the bench virtualenv:

    KERAS_BACKEND=torch .venv-bench/bin/python Tests/LoomEngineTests/Fixtures/make_keras_weight_decay.py
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
from safetensors.numpy import save_file

STEPS, RATE = 3, 0.1
rng = np.random.default_rng(2027)
L2 = keras.regularizers.L2
models = {
    # dense 3 tanh l2 0.01, dense 2 linear l2 0.02
    "dense": (keras.Sequential([keras.Input((4,)),
                                keras.layers.Dense(3, activation="tanh", kernel_regularizer=L2(0.01)),
                                keras.layers.Dense(2, kernel_regularizer=L2(0.02))]), (4,), 2),
    # conv2d 2 3x3 relu l2 0.05, flatten, dense 2 linear l2 0.001
    "conv": (keras.Sequential([keras.Input((5, 5, 1)),
                               keras.layers.Conv2D(2, (3, 3), activation="relu", kernel_regularizer=L2(0.05)),
                               keras.layers.Flatten(),
                               keras.layers.Dense(2, kernel_regularizer=L2(0.001))]), (5, 5, 1), 2),
}
tensors = {}
for key, (model, shape, outputs) in models.items():
    x = rng.uniform(-1, 1, (8,) + shape).astype(np.float32)
    y = rng.uniform(-1, 1, (8, outputs)).astype(np.float32)
    # Random weights (not the initialisers'), biases too, so every weight matters.
    weights = [rng.uniform(-0.8, 0.8, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(weights)
    names = [f"{key}.{layer}.{variable.name}" for layer in ("a", "b") for variable in
             [v for v in model.layers[0 if layer == "a" else -1].weights]]
    tensors[f"{key}.x"], tensors[f"{key}.y"] = x, y
    for name, w in zip(names, weights):
        tensors[f"{name}.start"] = w
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=RATE), loss="mse")
    losses = []
    for _ in range(STEPS):
        losses.append(model.train_on_batch(x, y))
    tensors[f"{key}.losses"] = np.asarray(losses, np.float32)
    for name, w in zip(names, model.get_weights()):
        tensors[f"{name}.end"] = w
out = Path(__file__).with_name("keras-weight-decay.safetensors")
save_file(tensors, str(out), metadata={"keras": keras.__version__, "backend": keras.backend.backend(),
                                       "steps": str(STEPS), "learning_rate": str(RATE)})
print(f"wrote {out} ({len(tensors)} tensors, Keras {keras.__version__})")
for name, t in tensors.items():
    print(name, t.shape, t.ravel()[:3])
