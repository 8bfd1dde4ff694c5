"""A Pygments lexer for the Loom language.

The words come from Loom's own statement and layer tables (`loom reference`
lists them); a test in the Loom repository checks that every statement and
layer word is here.
"""

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

STATEMENTS = (
    "print", "warn", "seed", "help", "list", "delete", "reset", "set", "sleep", "for", "in", "parallel", "record", "quiet",
    "time", "clear", "exit", "quit", "data", "split", "model", "summary", "train", "evaluate", "compare", "predict", "prune",
    "cluster", "compact", "rewind", "save", "load", "export", "show", "dictionary", "codes",
)
LAYERS = (
    "input", "dense", "conv2d", "maxpool", "avgpool", "conv1d", "maxpool1d", "globalpool", "flatten", "reshape",
    "batchnorm", "layernorm", "dropout", "rnn", "lstm", "gru", "threshold", "kwta", "activity",
    "local2d", "local1d", "depthwise", "separable", "lista",
)
# The second words of statements (`data d = csv`, `show filters`) and option words.
FORMS = (
    "csv", "idx", "npy", "glyphs", "sines", "adding", "patches", "copy", "learn", "encode", "weights", "filters",
    "histogram", "sparsity", "table", "pruning", "activations", "atoms", "plots", "width", "threads", "memory",
    "mask", "reconstructions", "units", "mnist", "cifar10", "npz", "images", "fashion",
)
OPTIONS = (
    "on", "epochs", "batch", "optimizer", "lr", "loss", "validate", "patience", "monitor", "restore", "checkpoint",
    "schedule", "first", "mistakes", "layer", "global", "label", "shape", "scale", "labels", "targets", "size",
    "noise", "steps", "classes", "target", "as", "stride", "padding", "sparse", "sequences", "bidirectional", "boost",
    "inference", "l1", "fresh", "with", "method", "error", "alpha", "positive", "iterations", "tolerance", "center",
    "sample", "by", "share", "tied", "hashed", "groups", "multiplier", "erk", "rewire", "every", "fraction", "keep",
    "from", "to", "weight", "path", "n", "whiten", "colour", "pool", "grid", "log", "histograms", "l2", "decay",
)
VALUES = (
    "relu", "tanh", "sigmoid", "softmax", "linear", "adam", "sgd", "momentum", "rmsprop", "adamw", "crossentropy", "mse",
    "valid", "same", "avg", "max", "ksvd", "mod", "online", "omp", "lasso", "step", "cosine", "warmup", "svg", "text",
    "last", "none", "next", "accuracy", "bce", "inputs", "kl", "ista", "fista", "rigl", "epoch", "sum",
)


class LoomLexer(RegexLexer):
    """Loom cells and `.loom` files: statements, layers, options, numbers, shapes, percentages, strings, comments."""

    name = "Loom"
    aliases = ["loom"]
    filenames = ["*.loom"]
    mimetypes = ["text/x-loom"]
    url = "https://github.com/loom-kernel/loom"

    tokens = {
        "root": [
            (r"[ \t]+", Whitespace),
            (r"\\\n", Whitespace),
            (r"\n", Whitespace),
            (r"#.*$", Comment.Single),
            (r'"(\\\\|\\"|[^"\n])*"', String.Double),
            (r"'(\\\\|\\'|[^'\n])*'", String.Single),
            (r"\d+(x\d+)+\b", Number.Integer),                       # shapes: 28x28x1
            (r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?%", Number.Float),  # percentages
            (r"(\d+\.\d*|\.\d+)([eE][+-]?\d+)?\b|\d+[eE][+-]?\d+\b", Number.Float),
            (r"\d+\b", Number.Integer),
            (words(STATEMENTS, prefix=r"(?<![\w.])", suffix=r"\b"), Keyword),
            (words(LAYERS, prefix=r"(?<![\w.])", suffix=r"\b"), Keyword.Type),
            (words(FORMS, prefix=r"(?<![\w.])", suffix=r"\b"), Keyword.Reserved),
            (words(VALUES, prefix=r"(?<![\w.])", suffix=r"\b"), Name.Builtin),
            (words(OPTIONS, prefix=r"(?<![\w.])", suffix=r"(?=\s|$)"), Name.Attribute),
            (r"([A-Za-z_]\w*)(\.)([A-Za-z_]\w*)", bygroups(Name.Variable, Punctuation, Name.Attribute)),
            (r"[A-Za-z_]\w*", Name),
            (r"[=+\-*/]", Operator),
            (r"[{}()\[\],]", Punctuation),
            (r".", Text),
        ],
    }
