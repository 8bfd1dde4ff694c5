"""Papermill parameters as Loom assignments.

Values become Loom literals, as `loom run -p` writes them: numbers stay
numbers, strings are quoted with Loom's escapes, lists become `[a, b]`
(what a `for` loop sweeps over), booleans 1 and 0. Loom has no null and no
dictionaries, so those are refused with a message rather than written wrong.
"""

import math
import re

from papermill.engines import NBClientEngine
from papermill.exceptions import PapermillException
from papermill.models import Parameter
from papermill.translators import Translator, papermill_translators

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*(#\s*(.*))?$")


class LoomTranslator(Translator):
    @classmethod
    def translate_escaped_str(cls, str_val):
        escaped = str(str_val).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'

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
    def translate_float(cls, val):
        if not math.isfinite(val):
            raise PapermillException(f"Loom numbers are finite; {val!r} cannot be a parameter")
        return repr(val)

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
