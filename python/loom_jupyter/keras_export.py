"""A saved Loom model as a Keras 3 functional model (`to_keras`): Keras's own
layers where Keras has them, small layers of Loom's where it does not
(k-winners, threshold, LISTA, locally connected, a tied decoder)."""

import keras
import numpy as np
from keras import ops

from .geometry import conv_output, output_shape, patch_indices
from .saved import LoomExportError, SavedModel, kwta_inference, lista_arguments, saved_state


def _weight(layer, name, shape, regularizer=None):
    """A weight a layer of Loom's creates at its shape; to_keras then sets its value."""
    return layer.add_weight(shape=tuple(shape), initializer="zeros", name=name, regularizer=regularizer)


@keras.saving.register_keras_serializable(package="loom")
class Threshold(keras.layers.Layer):
    """Loom's `threshold EPS`: keeps values with |z| ≥ EPS, zeroes the rest."""

    def __init__(self, epsilon, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        return ops.where(ops.abs(x) >= self.epsilon, x, ops.zeros_like(x))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}

    def loom_tensors(self):
        return {}


@keras.saving.register_keras_serializable(package="loom")
class KWinners(keras.layers.Layer):
    """Loom's `kwta` at inference: each group keeps the values of its k
    largest boosted scores (x·boost per unit), the rest zeroed."""

    def __init__(self, k, group, boost, **kwargs):
        super().__init__(**kwargs)
        self.k, self.group = int(k), int(group)
        self.boost = [float(b) for b in boost]

    def call(self, x):
        shape = ops.shape(x)
        values = ops.reshape(x, (-1, self.group))
        scores = ops.reshape(x * ops.convert_to_tensor(np.asarray(self.boost, np.float32)), (-1, self.group))
        kth = ops.top_k(scores, self.k)[0][:, -1:]
        return ops.reshape(ops.where(scores >= kth, values, ops.zeros_like(values)), shape)

    def get_config(self):
        return {**super().get_config(), "k": self.k, "group": self.group, "boost": self.boost}

    def loom_tensors(self):
        return {}


@keras.saving.register_keras_serializable(package="loom")
class Lista(keras.layers.Layer):
    """Loom's `lista T`: T ISTA steps on learned Wₑ `[K, n]`, S `[K, K]` and θ
    with the fixed step η = 1/L of the dictionary it started from:
    z₁ = soft(η·xWₑᵀ), z ← soft(z − η(zS − xWₑᵀ))."""

    def __init__(self, steps, step, atoms, length, **kwargs):
        super().__init__(**kwargs)
        self.steps, self.step, self.atoms, self.length = int(steps), float(step), int(atoms), int(length)
        self.encoder = _weight(self, "encoder", (atoms, length))
        self.mutual = _weight(self, "mutual", (atoms, atoms))
        self.threshold = _weight(self, "threshold", (1,))

    def call(self, x):
        x = ops.reshape(x, (ops.shape(x)[0], -1))
        cut = ops.maximum(self.threshold, 0.0)

        def soft(v):
            return ops.sign(v) * ops.maximum(ops.abs(v) - cut, 0.0)

        c = ops.matmul(x, ops.transpose(self.encoder))
        z = soft(self.step * c)
        for _ in range(self.steps - 1):
            z = soft(z - self.step * (ops.matmul(z, self.mutual) - c))
        return z

    def get_config(self):
        return {**super().get_config(), "steps": self.steps, "step": self.step, "atoms": self.atoms, "length": self.length}

    def loom_tensors(self):
        return {"encoder": self.encoder.numpy(), "mutual": self.mutual.numpy(), "threshold": self.threshold.numpy()}


class TiedDense(keras.layers.Layer):
    """Loom's `dense … tied L`: L's kernel, transposed, with a bias of its own.
    It holds L itself, so Keras cannot save it in a `.keras` file."""

    def __init__(self, lender, bias, activation, **kwargs):
        super().__init__(**kwargs)
        self.lender = lender
        self.activation = keras.activations.get(activation)
        self.bias = self.add_weight(shape=bias.shape, initializer=keras.initializers.Constant(bias), name="bias")

    def call(self, x):
        return self.activation(ops.matmul(x, ops.transpose(self.lender.kernel)) + self.bias)

    def get_config(self):
        raise NotImplementedError(f"{self.name} is a tied decoder, holding {self.lender.name}'s kernel: a .keras file cannot "
                                  "hold it; save the weights (model.save_weights) and rebuild the model with to_keras")


@keras.saving.register_keras_serializable(package="loom")
class LocallyConnected(keras.layers.Layer):
    """Loom's `local2d` and `local1d` (Keras 2's LocallyConnected2D/1D, gone
    from Keras 3): a kernel of its own at every output position, weights
    `[positions, kh·kw·C, filters]`, windows gathered by index."""

    def __init__(self, input_dims, kernel, stride, padding, filters, activation, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l2 = float(l2)
        self.input_dims, self.kernel_size, self.stride, self.padding = list(input_dims), list(kernel), int(stride), padding
        self.filters, self.activation_name = int(filters), activation
        self.sequence = len(input_dims) == 2
        height, width, channels = (input_dims[0], 1, input_dims[1]) if self.sequence else input_dims
        self.index, (self.ph, self.pw), self.pads = patch_indices(height, width, channels, tuple(kernel), stride, padding)
        self.channels = channels
        positions = self.index.shape[0]
        rows, columns = (conv_output(size, k, stride, padding) for size, k in zip((height, width), kernel))
        self.out_shape = (rows, filters) if self.sequence else (rows, columns, filters)
        self.activation = keras.activations.get(activation)
        self.kernel = _weight(self, "kernel", (positions, self.index.shape[1], filters),
                              keras.regularizers.L2(self.l2) if self.l2 > 0 else None)
        self.bias = _weight(self, "bias", (positions, filters))

    def call(self, x):
        n = ops.shape(x)[0]
        x = ops.reshape(x, (n, -1, 1 if self.sequence else ops.shape(x)[2], self.channels))
        top, bottom, left, right = self.pads
        x = ops.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
        patches = ops.take(ops.reshape(x, (n, self.ph * self.pw * self.channels)), ops.convert_to_tensor(self.index), axis=1)
        y = ops.einsum("npk,pkf->npf", patches, self.kernel) + self.bias
        return self.activation(ops.reshape(y, (n,) + tuple(self.out_shape)))

    def get_config(self):
        return {**super().get_config(), "input_dims": self.input_dims, "kernel": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "filters": self.filters, "activation": self.activation_name, "l2": self.l2}

    def loom_tensors(self):
        return {"kernel": self.kernel.numpy(), "bias": self.bias.numpy().reshape(self.out_shape)}


def to_keras(path):
    """The model Loom saved at `path` as a Keras 3 model predicting what Loom predicts."""
    saved = SavedModel(path)
    lenders = {layer.share for layer in saved.layers if layer.share}
    inputs = keras.Input(shape=saved.input_shape)
    x, shape, built = inputs, saved.input_shape, {}
    for layer in saved.layers:
        # A layer that shares weights, or lends them, keeps its activation apart (a recurrent cell's is inside it).
        split = (layer.share is not None or layer.name in lenders) and layer.kind not in ("rnn", "lstm", "gru")
        activation = layer.get("activation", "linear")
        if layer.share:
            core = built[layer.share]
        else:
            core = _keras_layer(saved, layer, shape, "linear" if split else activation, built)
            built[layer.name] = core
        if hasattr(core, "loom_tensors"):
            # Loom's own layers remember their line and state, so from_keras can write them back.
            core.loom_line, core.loom_state = layer, saved_state(saved, layer)
        if core is not None:
            x = core(x)
            if not layer.share:
                _set_weights(saved, layer, core, shape)
        if split and activation != "linear":
            x = keras.layers.Activation(activation, name=f"{layer.name}_{activation}")(x)
        shape = tuple(x.shape[1:])
    return keras.Model(inputs, x, name=saved.metadata.get("loom.definition", "model loom").split()[1])


def _keras_layer(saved, layer, shape, activation, built):
    """The Keras layer of one Loom layer (its weights set once built), None for one that does nothing at inference."""
    kind, get, name = layer.kind, layer.get, layer.name
    stride = int(get("stride") or 1)
    padding = get("padding", "valid")
    if kind == "dense":
        if get("tied"):
            return TiedDense(built[get("tied")], saved.weight(layer, "bias"), activation, name=name)
        return keras.layers.Dense(int(get("units")), activation=activation, kernel_regularizer=_l2(layer), name=name)
    if kind == "conv2d":
        return keras.layers.Conv2D(int(get("filters")), layer.window("kernel"), strides=stride, padding=padding,
                                   groups=int(get("groups", 1)), activation=activation, kernel_regularizer=_l2(layer), name=name)
    if kind == "depthwise":
        return keras.layers.DepthwiseConv2D(layer.window("kernel"), strides=stride, padding=padding,
                                            depth_multiplier=int(get("multiplier", 1)), activation=activation,
                                            depthwise_regularizer=_l2(layer), name=name)
    if kind == "separable":
        return keras.layers.SeparableConv2D(int(get("filters")), layer.window("kernel"), strides=stride, padding=padding,
                                            depth_multiplier=int(get("multiplier", 1)), activation=activation,
                                            depthwise_regularizer=_l2(layer), pointwise_regularizer=_l2(layer), name=name)
    if kind in ("local2d", "local1d"):
        kernel = layer.window("kernel") if kind == "local2d" else (int(get("kernel")), 1)
        return LocallyConnected(shape, kernel, stride, padding, int(get("filters")), activation, float(get("l2", 0)), name=name)
    if kind in ("maxpool", "avgpool"):
        size = layer.window("size")
        pool = keras.layers.MaxPooling2D if kind == "maxpool" else keras.layers.AveragePooling2D
        return pool(size, strides=int(get("stride") or size[0]), name=name)
    if kind == "conv1d":
        return keras.layers.Conv1D(int(get("filters")), int(get("kernel")), strides=stride, padding=padding,
                                   activation=activation, kernel_regularizer=_l2(layer), name=name)
    if kind == "maxpool1d":
        return keras.layers.MaxPooling1D(int(get("size")), strides=int(get("stride") or get("size")), name=name)
    if kind == "globalpool":
        image = len(shape) == 3
        pools = {("max", True): keras.layers.GlobalMaxPooling2D, ("avg", True): keras.layers.GlobalAveragePooling2D,
                 ("max", False): keras.layers.GlobalMaxPooling1D, ("avg", False): keras.layers.GlobalAveragePooling1D}
        return pools[(get("mode"), image)](name=name)
    if kind == "flatten":
        return keras.layers.Flatten(name=name)
    if kind == "reshape":
        return keras.layers.Reshape(output_shape(layer, shape), name=name)
    if kind == "batchnorm":
        return keras.layers.BatchNormalization(momentum=float(get("momentum", 0.99)), epsilon=float(get("epsilon", 0.001)), name=name)
    if kind == "layernorm":
        return keras.layers.LayerNormalization(epsilon=float(get("epsilon", 0.001)), name=name)
    if kind == "dropout":
        return keras.layers.Dropout(float(get("rate")), name=name)
    if kind in ("rnn", "lstm", "gru"):
        units, sequences = int(get("units")), bool(get("sequences"))
        options = dict(activation=activation, return_sequences=sequences, kernel_regularizer=_l2(layer),
                       recurrent_regularizer=_l2(layer))
        cell = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind]
        if kind == "gru":
            options["reset_after"] = True
        if get("bidirectional"):
            return keras.layers.Bidirectional(cell(units, **options), merge_mode="concat", name=name)
        return cell(units, name=name, **options)
    if kind == "threshold":
        return Threshold(get("epsilon"), name=name)
    if kind == "kwta":
        return KWinners(*kwta_inference(saved, layer, shape), name=name)
    if kind == "activity":
        # A penalty while training, nothing at inference: Keras's regulariser for L1, none for KL.
        amount = float(get("amount")) * float(get("weight", 1))
        return keras.layers.ActivityRegularization(l1=amount, name=name) if get("penalty") == "l1" else None
    if kind == "lista":
        steps, step, encoder, _, _ = lista_arguments(saved, layer)
        return Lista(steps, step, encoder.shape[0], encoder.shape[1], name=name)
    raise LoomExportError(f"Keras has no equivalent of Loom's `{kind}` layer ({name})")


def _l2(layer):
    """`l2 λ` as Keras's L2(λ) regularizer, the same penalty λ·Σw² on a kernel; None without it, and
    for a hashed layer, whose Keras kernel is the virtual matrix where Loom decays the real weights."""
    if float(layer.get("l2", 0)) <= 0 or layer.get("hashed"):
        return None
    return keras.regularizers.L2(float(layer.get("l2")))


def _set_weights(saved, layer, core, shape):
    """Loads one block's weights into its built Keras layer (Keras's layouts are Loom's)."""
    kind, w = layer.kind, (lambda n: saved.weight(layer, n))
    if kind == "dense" and not layer.get("tied"):
        core.set_weights([saved.dense_kernel(layer, shape[-1]), w("bias")])
    elif kind in ("conv2d", "conv1d", "depthwise"):
        core.set_weights([w("kernel"), w("bias")])
    elif kind == "separable":
        core.set_weights([w("depthwise_kernel"), w("pointwise_kernel"), w("bias")])
    elif kind == "batchnorm":
        core.set_weights([w("gamma"), w("beta"), w("moving_mean"), w("moving_variance")])
    elif kind == "layernorm":
        core.set_weights([w("gamma"), w("beta")])
    elif kind in ("local2d", "local1d"):
        kernel = w("kernel")
        core.set_weights([kernel, w("bias").reshape(kernel.shape[0], kernel.shape[2])])
    elif kind == "lista":
        core.set_weights(list(lista_arguments(saved, layer)[2:]))
    elif kind in ("rnn", "lstm", "gru"):
        prefixes = ["forward.", "backward."] if layer.get("bidirectional") else [""]
        core.set_weights([w(p + part) for p in prefixes for part in ("kernel", "recurrent_kernel", "bias")])
