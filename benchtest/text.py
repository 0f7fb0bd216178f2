"""Text from the API made safe to show: on a terminal, and quoted in error messages."""

from __future__ import annotations

import re
from collections.abc import Callable

# C0 controls (tab and newline too: a cell or an error line is one line), DEL and C1 controls,
# and the characters that reorder or hide text: bidi marks, embeddings, overrides, isolates,
# and the Unicode line and paragraph separators.
_UNSAFE = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029]
_UNSAFE += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_VISIBLE = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" for c in _UNSAFE}
_VISIBLE |= {ord("\r"): "\\r", ord("\n"): "\\n", ord("\t"): "\\t"}

# The same characters but tab and newline, which JSON and HTML use for layout and which a terminal
# only moves past: what a machine format writes as references (`referenced`).
_REFERENCED = [c for c in _UNSAFE if c not in (0x09, 0x0A)]
_ANY_REFERENCED = re.compile("[" + "".join(re.escape(chr(c)) for c in _REFERENCED) + "]")

# Attacker text quoted in a message is cut to this many characters.
QUOTE_LIMIT = 60


def for_terminal(text: str) -> str:
    """``text`` with every control, escape and bidi character shown as a visible escape."""
    return text.translate(_VISIBLE)


def shortened(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` for an error message: shortened, then quoted and escaped by `repr`."""
    return repr(shortened(text, limit))


def number(value: int | None) -> str:
    """An integer from a server for a message: as is, or how long it is when that is long."""
    text = str(value)
    digits = text.lstrip("-")
    negative = "negative " if text != digits else ""
    return text if len(digits) <= 24 else f"a {negative}{len(digits):,}-digit number"


def references(reference: Callable[[int], str]) -> dict[str, str]:
    """A table for `referenced`: each character a terminal acts on (but tab and newline) and
    ``reference(its code point)``, such as JSON's ``\\u001b``."""
    return {chr(code): reference(code) for code in _REFERENCED}


def referenced(text: str, table: dict[str, str]) -> str:
    """``text`` with the characters of `references` ``table`` replaced: the same data in a
    machine format, inert on a terminal. Ordinary text is only searched. Otherwise one
    `str.replace` per character present: 4x faster than `str.translate` (a table look-up per
    character), where `re.sub` would make an object per character replaced (1 GB for 10,000
    listed transactions with a 1,000-character Company of escapes)."""
    if _ANY_REFERENCED.search(text) is None:
        return text
    for char, reference in table.items():
        if char in text:
            text = text.replace(char, reference)
    return text
