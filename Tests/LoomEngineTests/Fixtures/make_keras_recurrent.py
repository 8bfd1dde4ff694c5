"""Makes keras-recurrent.safetensors, the fixture RecurrentKerasTests reads:
for a small SimpleRNN, LSTM and GRU (Keras 3 defaults: tanh, sigmoid gates,
GRU reset_after=True), with and without return_sequences, random weights, an
input batch and Keras's outputs for it. Run once, with the bench virtualenv:

    KERAS_BACKEND=jax .venv-bench/bin/python Tests/LoomEngineTests/Fixtures/make_keras_recurrent.py
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(2026)
batch, steps, features, units = 3, 6, 2, 4
x = rng.uniform(-1, 1, (batch, steps, features)).astype(np.float32)
tensors = {"input": x}
for name, layer_type in [("rnn", keras.layers.SimpleRNN), ("lstm", keras.layers.LSTM), ("gru", keras.layers.GRU)]:
    for sequences in [False, True]:
        key = f"{name}{'_seq' if sequences else ''}"
        layer = layer_type(units, return_sequences=sequences)
        layer.build((batch, steps, features))
        # Random weights (not the initialisers'), so every gate matters.
        weights = [rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        for w, label in zip(weights, ["kernel", "recurrent_kernel", "bias"]):
            tensors[f"{key}.{label}"] = w
        tensors[f"{key}.output"] = np.asarray(layer(x)).astype(np.float32)
for sequences in [False, True]:
    key = f"bilstm{'_seq' if sequences else ''}"
    layer = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=sequences), merge_mode="concat")
    layer.build((batch, steps, features))
    weights = [rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    labels = [f"{side}.{name}" for side in ["forward", "backward"] for name in ["kernel", "recurrent_kernel", "bias"]]
    for w, label in zip(weights, labels):
        tensors[f"{key}.{label}"] = w
    tensors[f"{key}.output"] = np.asarray(layer(x)).astype(np.float32)
out = Path(__file__).with_name("keras-recurrent.safetensors")
save_file(tensors, str(out), metadata={"keras": keras.__version__, "backend": keras.backend.backend()})
print(f"wrote {out} ({len(tensors)} tensors, Keras {keras.__version__})")
