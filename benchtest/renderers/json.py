"""The report as JSON: `model.encode`, indented, non-ASCII kept as is (UTF-8 output), but the
characters a terminal acts on as ``\\u`` escapes: JSON escapes C0 controls only, and leaves DEL,
C1 controls and bidi overrides raw. Written value by value where a struct holds lists (the
report, a category, the changes), so a listing of 120 MB is never whole in memory; the bytes
are what `msgspec.json.format` writes for the whole report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from ..model import Report, encode
from ..text import referenced, references

_REFERENCES = references("\\u{:04x}".format)


def pieces(report: Report) -> Iterator[str]:
    for piece in _value(report, 0):
        yield referenced(piece, _REFERENCES)
    yield "\n"


def _value(value: Any, depth: int) -> Iterator[str]:
    """``value`` as indented JSON at ``depth``: a list or a struct holding one, item by item."""
    pad = "\n" + "  " * depth
    if isinstance(value, tuple) and value:
        yield "["
        for number, item in enumerate(value):
            yield ("," if number else "") + pad + "  "
            yield from _value(item, depth + 1)
        yield pad + "]"
    elif isinstance(value, msgspec.Struct) and any(
        isinstance(getattr(value, name), tuple) for name in value.__struct_fields__
    ):  # the report, a category, the changes: none omits its defaults
        yield "{"
        for number, field in enumerate(msgspec.structs.fields(value)):
            yield f'{"," if number else ""}{pad}  "{field.encode_name}": '
            yield from _value(getattr(value, field.name), depth + 1)
        yield pad + "}"
    else:
        yield msgspec.json.format(encode(value), indent=2).decode().replace("\n", pad)
