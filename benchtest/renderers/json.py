"""The report as JSON, written piece by piece, inert on a terminal (docs/design.md)."""

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
