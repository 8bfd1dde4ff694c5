"""Makes keras-grouped.safetensors, the fixture GroupedKerasTests reads: for
Keras's Conv2D with groups, DepthwiseConv2D and SeparableConv2D (several
kernels, strides, paddings and depth multipliers), random weights, an input
batch and Keras's outputs for it. Run once, with the bench virtualenv:

    KERAS_BACKEND=torch .venv-bench/bin/python Tests/LoomEngineTests/Fixtures/make_keras_grouped.py
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(2026)
batch, height, width, channels = 2, 7, 6, 6
x = rng.uniform(-1, 1, (batch, height, width, channels)).astype(np.float32)
tensors = {"input": x}
cases = {
    "groups3": keras.layers.Conv2D(6, (3, 3), groups=3),
    "groups2_stride2_same": keras.layers.Conv2D(4, (3, 2), strides=2, padding="same", groups=2),
    # 32 filters a group: Loom's per-group sgemm rather than its direct loops.
    "groups2_wide": keras.layers.Conv2D(64, (3, 3), padding="same", groups=2),
    "depthwise": keras.layers.DepthwiseConv2D((3, 3), padding="same"),
    "depthwise_m2_stride2": keras.layers.DepthwiseConv2D((2, 3), strides=2, depth_multiplier=2),
    "separable": keras.layers.SeparableConv2D(5, (3, 3), padding="same"),
    "separable_m2_stride2": keras.layers.SeparableConv2D(4, (3, 3), strides=2, depth_multiplier=2),
}
for key, layer in cases.items():
    layer.build(x.shape)
    # Random weights (not the initialisers'), biases too, so every weight matters.
    weights = [rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    for w, variable in zip(weights, layer.weights):
        tensors[f"{key}.{variable.name}"] = w
    tensors[f"{key}.output"] = np.asarray(keras.ops.convert_to_numpy(layer(x))).astype(np.float32)
out = Path(__file__).with_name("keras-grouped.safetensors")
save_file(tensors, str(out), metadata={"keras": keras.__version__, "backend": keras.backend.backend()})
print(f"wrote {out} ({len(tensors)} tensors, Keras {keras.__version__})")
for name, t in tensors.items():
    print(name, t.shape)
