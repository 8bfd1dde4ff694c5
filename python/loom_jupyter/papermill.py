"""Papermill parameters as Loom assignments.

Values become Loom literals, as `loom run -p` writes them: numbers stay
numbers, strings are quoted with Loom's escapes, lists become `[a, b]`
(what a `for` loop sweeps over), booleans 1 and 0. Loom has no null and no
dictionaries, so those are refused with a message rather than written wrong.

Each parameter becomes exactly one assignment of exactly its value: a name
must be a Loom variable name, and strings are escaped one code point at a
time, with control characters other than newline and tab refused.
"""

import math
import re
import unicodedata

from papermill.engines import NBClientEngine
from papermill.exceptions import PapermillException
from papermill.models import Parameter
from papermill.translators import Translator, papermill_translators

from .lexer import LAYERS, STATEMENTS

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*(#\s*(.*))?$")


# Words that begin statements and layers cannot name a variable (`in` can:
# it only joins a `for` loop's name to its values; `parallel` too: it is a
# keyword only right before a loop's `{`).
RESERVED = frozenset(STATEMENTS + LAYERS) - {"in", "parallel"}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def _is_name_start(char):
    return char == "_" or char.isalpha()


def check_name(name):
    """Refuses what Loom could not read as one variable name, as `loom run -p` does."""
    if not (isinstance(name, str) and name and _is_name_start(name[0])
            and all(_is_name_start(c) or c in "0123456789" for c in name)):
        raise PapermillException(f"{name!r} is not a Loom name: use letters, digits and _, starting with a letter or _")
    if name in RESERVED:
        raise PapermillException(f"`{name}` is a statement or layer word and cannot name a variable")


def _refused(char):
    """Control characters (but newline and tab), line and paragraph separators, lone surrogates."""
    category = unicodedata.category(char)
    return (category == "Cc" and char not in "\n\t") or category in ("Zl", "Zp", "Cs")


class LoomTranslator(Translator):
    @classmethod
    def translate_escaped_str(cls, str_val):
        text = str(str_val)
        for position, char in enumerate(text, 1):
            if _refused(char):
                raise PapermillException(f"a Loom parameter is text without control characters; this one holds "
                                         f"U+{ord(char):04X} at character {position}")
        return '"' + "".join(_ESCAPES.get(char, char) for char in text) + '"'

    @classmethod
    def assign(cls, name, str_val):
        check_name(name)
        return f"{name} = {str_val}"

    @classmethod
    def codify(cls, parameters, comment="Parameters"):
        """The injected cell: the comment, then one assignment a parameter; an error names its parameter."""
        lines = [cls.comment(comment)]
        for name, value in parameters.items():
            check_name(name)
            try:
                lines.append(cls.assign(name, cls.translate(value)))
            except PapermillException as error:
                raise PapermillException(f"parameter `{name}`: {error}") from None
        return "\n".join(lines) + "\n"

    @classmethod
    def translate_str(cls, val):
        return cls.translate_escaped_str(val)

    @classmethod
    def translate_none(cls, val):
        raise PapermillException("Loom has no null value: give the parameter a number, a string or a list")

    @classmethod
    def translate_bool(cls, val):
        return "1" if val else "0"

    @classmethod
    def translate_int(cls, val):
        return str(int(val))  # an int subclass's own text (an enum's name) is not a number

    @classmethod
    def translate_float(cls, val):
        if not math.isfinite(val):
            raise PapermillException(f"Loom numbers are finite; {val!r} cannot be a parameter")
        return repr(float(val))

    @classmethod
    def translate_dict(cls, val):
        raise PapermillException("Loom has no dictionaries: pass each entry as a parameter of its own")

    @classmethod
    def translate_list(cls, val):
        return "[" + ", ".join(cls.translate(v) for v in val) + "]"

    @classmethod
    def comment(cls, cmt_str):
        return f"# {cmt_str}".strip()

    @classmethod
    def inspect(cls, parameters_cell):
        """The `NAME = VALUE` lines of a parameters cell, for `papermill --help-notebook`."""
        parameters = []
        for line in parameters_cell.source.splitlines():
            match = _ASSIGNMENT.match(line)
            if not match:
                continue
            name, value, _, help_text = match.groups()
            kind = ("str" if value[:1] in "\"'" else "list" if value.startswith("[") else
                    "float" if re.fullmatch(r"-?[\d.]+(e-?\d+)?%?", value) else "None")
            parameters.append(Parameter(name=name, inferred_type_name=kind, default=value, help=help_text or ""))
        return parameters


class LoomEngine(NBClientEngine):
    """papermill's own engine; the entry point that names it is what registers the translator."""


papermill_translators.register("loom", LoomTranslator)
