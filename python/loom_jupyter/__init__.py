"""Loom's companions: a papermill parameter translator, a Pygments lexer, and
models that leave Loom for Keras and PyTorch (and come back).

Neither framework is a dependency: each function imports its framework when
it is called, and says what to install when it is missing."""

__version__ = "0.1.0"


def _framework(module, function, install):
    """One of the conversion modules, imported now; naming what to install when its framework is missing."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ImportError as error:
        missing = (error.name or "").split(".")[0]
        if missing in ("keras", "torch", "numpy"):
            raise ImportError(f"loom_jupyter.{function} needs {missing}, which loom-jupyter does not depend on: "
                              f"pip install {'numpy' if missing == 'numpy' else install}") from error
        raise


def to_keras(path):
    """The model Loom saved at `path` as a Keras 3 model that predicts what Loom predicts."""
    return _framework("keras_export", "to_keras", "keras (and a backend: torch, jax or tensorflow)").to_keras(path)


def to_torch(path):
    """The model Loom saved at `path` as a torch.nn.Module (in eval mode) that predicts what Loom predicts.
    It takes inputs as Loom and Keras do: images `[batch, height, width, channels]`."""
    return _framework("torch_export", "to_torch", "torch").to_torch(path)


def from_keras(model, path):
    """Writes a Keras model as a file Loom's `load` reads, for the layers both have; refuses others by name."""
    return _framework("keras_import", "from_keras", "keras (and a backend: torch, jax or tensorflow)").from_keras(model, path)


def from_torch(module, input_shape, path):
    """Writes a torch.nn.Module (a chain of layers, as nn.Sequential) as a file Loom's `load` reads.
    `input_shape` is one sample's shape as torch takes it (channels first: `(1, 28, 28)`)."""
    return _framework("torch_import", "from_torch", "torch").from_torch(module, input_shape, path)
