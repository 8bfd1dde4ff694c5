"""A Keras model as a file Loom's `load` reads (`from_keras`): the layers both
have, in Loom's layouts (which are Keras's); any other layer is refused by name."""

import keras
import numpy as np

from .model_writer import ModelWriter, scale_and_shift
from .saved import ACTIVATIONS, LoomExportError

L = keras.layers


def from_keras(model, path):
    """Writes `model` (Sequential, or a functional chain of layers) to `path` for Loom's `load`."""
    layers = [layer for layer in model.layers if not isinstance(layer, L.InputLayer)]
    _check_chain(model, layers)
    writer = ModelWriter("Keras")
    names = {}  # Keras layer → its Loom block, for a tied decoder's lender
    for layer in layers:
        names[id(layer)] = _add(writer, layer, names)
    writer.write(path, tuple(model.input_shape[1:]))
    return path


def _check_chain(model, layers):
    if isinstance(model, keras.Sequential):
        return
    for before, layer in zip(layers, layers[1:]):
        if layer.input is not before.output:
            raise LoomExportError(f"{layer.name} does not take {before.name}'s output: Loom's models are chains of layers")


def _activation(layer, function=None):
    name = getattr(function or layer.activation, "__name__", str(function or layer.activation))
    if name not in ACTIVATIONS:
        raise LoomExportError(f"{layer.name}: Loom has no `{name}` activation (it has {', '.join(ACTIVATIONS)})")
    return name


def _one(values, layer, what):
    """A stride or window given for both axes, as Loom's one number; refused when they differ."""
    values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    if len(set(values)) != 1:
        raise LoomExportError(f"{layer.name}: Loom's {what} is the same along both axes, not {values}")
    return values[0]


def _stride(layer):
    """A convolution's stride as Loom writes it: nothing for 1."""
    stride = _one(layer.strides, layer, "stride")
    return stride if stride != 1 else None


def _padding(layer):
    if layer.padding not in ("valid", "same"):
        raise LoomExportError(f"{layer.name}: Loom pads `valid` or `same`, not `{layer.padding}`")
    return None if layer.padding == "valid" else "same"


def _plain_convolution(layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise LoomExportError(f"{layer.name}: Loom's images are channels last; this layer is {layer.data_format}")
    if set(np.ravel(getattr(layer, "dilation_rate", 1))) != {1}:
        raise LoomExportError(f"{layer.name}: Loom has no dilated convolutions")


def _scale_and_shift(layer, features):
    return scale_and_shift(layer.gamma.numpy() if layer.scale else None, layer.beta.numpy() if layer.center else None, features)


def _bias(layer, units):
    return layer.bias.numpy() if layer.use_bias else np.zeros(units, np.float32)


def _l2(layer, *attributes):
    """A layer's L2(λ) regularizers (or L1L2 without their L1 part; the kernel_regularizer unless other
    attributes are named, which must then agree) as Loom's `l2 λ`; None for none. Other regularisers change
    training, not predictions, and Loom has no equivalent: they are not kept."""
    lambdas = {_lambda(getattr(layer, name, None)) for name in attributes or ("kernel_regularizer",)}
    if len(lambdas) > 1:
        raise LoomExportError(f"{layer.name}: Loom's `l2` decays {' and '.join(attributes)} with one λ; "
                              f"these are {sorted(x or 0.0 for x in lambdas)}")
    return lambdas.pop()


def _lambda(regularizer):
    if isinstance(regularizer, (keras.regularizers.L2, keras.regularizers.L1L2)) and not getattr(regularizer, "l1", 0):
        return float(regularizer.l2) or None
    return None


def _add(writer, layer, names):
    """One Keras layer as one Loom line (or folded into the line before); the block's name."""
    name = type(layer).__name__
    if getattr(layer, "loom_line", None) is not None:  # one of Loom's own layers, from to_keras
        return writer.add_line(layer.loom_line, {**layer.loom_state, **layer.loom_tensors()})
    if name == "TiedDense":
        lender = names.get(id(layer.lender))
        if lender is None:
            raise LoomExportError(f"{layer.name} is tied to {layer.lender.name}, which is not an earlier layer of the model")
        bias = layer.bias.numpy()
        return writer.add("dense", [bias.shape[0]], _activation(layer), {"tied": lender}, {"bias": bias})
    if isinstance(layer, L.ActivityRegularization) and not layer.l2:
        return writer.add("activity", ["l1", layer.l1])
    if isinstance(layer, L.Dense):
        kernel = layer.kernel.numpy()
        return writer.add("dense", [kernel.shape[1]], _activation(layer), {"l2": _l2(layer)},
                          {"kernel": kernel, "bias": _bias(layer, kernel.shape[1])})
    if isinstance(layer, (L.DepthwiseConv2D, L.SeparableConv2D)):
        _plain_convolution(layer)
        window = "x".join(map(str, layer.kernel_size))
        options = {"multiplier": layer.depth_multiplier if layer.depth_multiplier != 1 else None, "stride": _stride(layer),
                   "padding": _padding(layer)}
        if isinstance(layer, L.DepthwiseConv2D):
            options["l2"] = _l2(layer, "depthwise_regularizer")
            kernel = layer.kernel.numpy()
            return writer.add("depthwise", [window], _activation(layer), options,
                              {"kernel": kernel, "bias": _bias(layer, kernel.shape[2] * kernel.shape[3])})
        options["l2"] = _l2(layer, "depthwise_regularizer", "pointwise_regularizer")
        return writer.add("separable", [layer.filters, window], _activation(layer), options,
                          {"depthwise_kernel": layer.depthwise_kernel.numpy(), "pointwise_kernel": layer.pointwise_kernel.numpy(),
                           "bias": _bias(layer, layer.filters)})
    if type(layer) in (L.Conv2D, L.Conv1D):
        _plain_convolution(layer)
        options = {"stride": _stride(layer), "padding": _padding(layer), "l2": _l2(layer)}
        if isinstance(layer, L.Conv2D):
            options["groups"] = layer.groups if layer.groups != 1 else None
            words = [layer.filters, "x".join(map(str, layer.kernel_size))]
        elif layer.groups != 1:
            raise LoomExportError(f"{layer.name}: Loom's conv1d has no groups")
        else:
            words = [layer.filters, layer.kernel_size[0]]
        return writer.add("conv2d" if isinstance(layer, L.Conv2D) else "conv1d", words, _activation(layer), options,
                          {"kernel": layer.kernel.numpy(), "bias": _bias(layer, layer.filters)})
    if isinstance(layer, (L.MaxPooling2D, L.AveragePooling2D, L.MaxPooling1D)):
        if layer.padding != "valid":
            raise LoomExportError(f"{layer.name}: Loom's pooling windows do not pad (`valid` only)")
        size, stride = tuple(layer.pool_size), _one(layer.strides, layer, "stride")
        options = {"stride": stride if stride != size[0] else None}
        if isinstance(layer, L.MaxPooling1D):
            return writer.add("maxpool1d", [size[0]], options=options)
        return writer.add("maxpool" if isinstance(layer, L.MaxPooling2D) else "avgpool", ["x".join(map(str, size))], options=options)
    if isinstance(layer, (L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalAveragePooling1D, L.GlobalAveragePooling2D)):
        if layer.keepdims:
            raise LoomExportError(f"{layer.name}: Loom's globalpool does not keep the pooled axes")
        return writer.add("globalpool", ["max" if "Max" in name else "avg"])
    if isinstance(layer, L.Flatten):
        return writer.add("flatten")
    if isinstance(layer, L.Reshape):
        return writer.add("reshape", ["x".join(map(str, layer.target_shape))])
    if isinstance(layer, L.Dropout):
        return writer.add("dropout", [layer.rate])
    if isinstance(layer, L.BatchNormalization):
        if layer.axis not in (-1, len(layer.input.shape) - 1):
            raise LoomExportError(f"{layer.name}: Loom normalises the last axis, not axis {layer.axis}")
        tensors = {**_scale_and_shift(layer, layer.moving_mean.shape[0]),
                   "moving_mean": layer.moving_mean.numpy(), "moving_variance": layer.moving_variance.numpy()}
        return writer.add("batchnorm", options={"momentum": layer.momentum, "epsilon": layer.epsilon}, tensors=tensors)
    if isinstance(layer, L.LayerNormalization):
        axis = layer.axis if isinstance(layer.axis, int) else tuple(layer.axis)
        if axis not in (-1, len(layer.input.shape) - 1, [-1], (-1,)) or getattr(layer, "rms_scaling", False):
            raise LoomExportError(f"{layer.name}: Loom's layernorm normalises the last axis alone")
        return writer.add("layernorm", options={"epsilon": layer.epsilon}, tensors=_scale_and_shift(layer, layer.input.shape[-1]))
    if isinstance(layer, (L.SimpleRNN, L.LSTM, L.GRU, L.Bidirectional)):
        return _recurrent(writer, layer)
    if isinstance(layer, L.Activation):
        return writer.fold_activation(_activation(layer, layer.activation), f"Activation layer {layer.name}")
    if isinstance(layer, L.ReLU) and layer.max_value is None and not layer.negative_slope and not layer.threshold:
        return writer.fold_activation("relu", f"ReLU layer {layer.name}")
    if isinstance(layer, L.Softmax) and layer.axis in (-1,):
        return writer.fold_activation("softmax", f"Softmax layer {layer.name}")
    if isinstance(layer, L.Embedding):
        raise LoomExportError(f"Loom has no embedding layer ({layer.name}): its models take numbers, not token indices")
    raise LoomExportError(f"Loom has no equivalent of Keras's {name} layer ({layer.name})")


def _recurrent(writer, layer):
    bidirectional = isinstance(layer, L.Bidirectional)
    if bidirectional and layer.merge_mode != "concat":
        raise LoomExportError(f"{layer.name}: Loom's bidirectional layers concatenate (merge_mode='concat'), not {layer.merge_mode!r}")
    cells = [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
    first = cells[0]
    kind = {L.SimpleRNN: "rnn", L.LSTM: "lstm", L.GRU: "gru"}.get(type(first))
    if kind is None:
        raise LoomExportError(f"Loom has no equivalent of Keras's {type(first).__name__} layer ({layer.name})")
    for cell in cells:
        if not cell.use_bias or cell.return_state or cell.stateful or (cell.go_backwards and not bidirectional):
            raise LoomExportError(f"{layer.name}: Loom's recurrent layers have a bias and return outputs only, reading forwards")
        if kind != "rnn" and getattr(cell.recurrent_activation, "__name__", "") != "sigmoid":
            raise LoomExportError(f"{layer.name}: Loom's gates are sigmoid, not {cell.recurrent_activation.__name__}")
        if kind == "gru" and not cell.reset_after:
            raise LoomExportError(f"{layer.name}: Loom's GRU resets after the recurrent product (reset_after=True)")
    tensors = {}
    for cell, prefix in zip(cells, ["forward.", "backward."] if bidirectional else [""]):
        for part, value in zip(("kernel", "recurrent_kernel", "bias"), cell.get_weights()):
            tensors[prefix + part] = value
    options = {"sequences": True if first.return_sequences else None, "bidirectional": True if bidirectional else None,
               "l2": _l2(first.cell, "kernel_regularizer", "recurrent_regularizer")}
    return writer.add(kind, [first.units], _activation(first), options, tensors)
