"""The report as JSON: `model.encode`, indented, non-ASCII kept as is (UTF-8 output), but the
characters a terminal acts on as ``\\u`` escapes: JSON escapes C0 controls only, and leaves DEL,
C1 controls and bidi overrides raw."""

from __future__ import annotations

import msgspec

from ..model import Report, encode
from ..text import referenced, references

_REFERENCES = references("\\u{:04x}".format)


def render(report: Report) -> str:
    text = msgspec.json.format(encode(report), indent=2).decode()
    return referenced(text, _REFERENCES) + "\n"
