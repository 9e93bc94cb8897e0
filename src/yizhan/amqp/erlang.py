"""Erlang term formatting, as RabbitMQ's reply texts print terms with `~p`, `~w` and `~s`.

RabbitMQ builds many reply texts with `io_lib:format`, so a client sees Erlang syntax in them:
binaries as `<<"abc">>` or `<<0,20>>`, tuples as `{invalid_frame_end_marker,205}`. Terms are
modelled with plain Python values: `bytes` is a binary, `Atom` an atom, `tuple` a tuple, `list`
a list, `int`/`float` numbers, `True`/`False` the atoms true/false.
"""

from __future__ import annotations

LINE_LENGTH = 80

_ESCAPES = {10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 8: "\\b", 12: "\\f", 27: "\\e",
            34: '\\"', 92: "\\\\"}


class Atom(str):
    """An Erlang atom: printed bare (`none`, `frame_too_large`)."""

    __slots__ = ()


def _printable(data: bytes) -> bool:
    """io_lib's latin-1 printable test, which decides between <<"text">> and <<1,2,3>>."""
    for byte in data:
        if not (32 <= byte <= 126 or 160 <= byte <= 255 or byte in _ESCAPES):
            return False
    return True


def _binary(data: bytes) -> str:
    if data and _printable(data):
        # bytes above 127 stay raw bytes in the reply text (RabbitMQ sends latin-1 as is)
        text = "".join(_ESCAPES.get(b, chr(b) if b < 128 else chr(0xDC00 + b)) for b in data)
        return f'<<"{text}">>'
    return "<<" + ",".join(str(b) for b in data) + ">>"


def write(term) -> str:
    """`~w`: the term on one line."""
    if isinstance(term, Atom):
        return str(term)
    if term is True:
        return "true"
    if term is False:
        return "false"
    if isinstance(term, (bytes, bytearray, memoryview)):
        return _binary(bytes(term))
    if isinstance(term, tuple):
        return "{" + ",".join(write(t) for t in term) + "}"
    if isinstance(term, list):
        return "[" + ",".join(write(t) for t in term) + "]"
    if isinstance(term, float):
        return _float(term)
    if isinstance(term, str):  # a charlist
        return '"' + "".join(_ESCAPES.get(ord(c), c) for c in term) + '"'
    return str(term)


def _float(value: float) -> str:
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{int(exponent)}"
    elif "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def pretty(term, column: int, line_length: int = LINE_LENGTH) -> str:
    """`~p` starting at `column`: one line if it fits in the line, else a tuple or list is
    broken after each element, aligned after its opening bracket (io_lib_pretty's layout)."""
    flat = write(term)
    if column + len(flat) < line_length or not isinstance(term, (tuple, list)) or not term:
        return flat
    opening, closing = ("{", "}") if isinstance(term, tuple) else ("[", "]")
    indent = column + 1
    parts = []
    for index, item in enumerate(term):
        tail = "," if index < len(term) - 1 else closing
        parts.append(pretty(item, indent, line_length) + tail)
    return opening + ("\n" + " " * indent).join(parts)


def format_p(prefix: str, term, line_length: int = LINE_LENGTH) -> str:
    """`prefix ++ ~p` (`~Np` with a line length N): the pretty term after `prefix`."""
    column = len(prefix) - prefix.rfind("\n") - 1 if "\n" in prefix else len(prefix)
    return prefix + pretty(term, column, line_length)
