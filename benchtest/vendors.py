"""Readable vendor names from card-statement descriptors."""

from __future__ import annotations

import re
from functools import lru_cache

# Cleaning works on whitespace-separated tokens and removes trailing ones, each looked at once,
# so its cost is linear in the length (whole-string patterns anchored at ``$`` and retried after
# each removal took minutes for a long run of trailing region codes).

# From the first token that is a masked card/account number (xxxxxx8396) or a store number
# (#x0064, #R280) onwards, everything is terminal id, location and currency noise.
_NOISE_TOKEN = re.compile(r"(?:x{2,}\d+|#\S*)\b", re.IGNORECASE)
# A foreign-currency note as the last four tokens: "9.99 USD @ xx1001".
_FX_NOTE = tuple(re.compile(p, re.IGNORECASE) for p in (r"x*[\d.]+", "[A-Z]{3}", "@", r"x*\d+"))

# Trailing location words: Canadian provinces and territories, the country codes, and cities.
_REGIONS = frozenset(
    ["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT", "CA", "US"]
)
_CITIES = (
    "VANCOUVER|NORTH VANCOUVER|WEST VANCOUVER|BURNABY|RICHMOND|SURREY|VICTORIA|CALGARY|"
    "EDMONTON|TORONTO|MISSISSAUGA|OTTAWA|MONTREAL|WINNIPEG|HALIFAX|REGINA|SASKATOON|QUEBEC"
)
_CITY = re.compile(_CITIES, re.IGNORECASE)


@lru_cache(maxsize=4096)
def clean_vendor(company: str) -> str:
    """Return a readable vendor name; the input itself when nothing is safe to remove."""
    tokens = company.split()
    fx = len(tokens) - len(_FX_NOTE)
    if fx >= 1 and all(p.fullmatch(t) for p, t in zip(_FX_NOTE, tokens[fx:], strict=True)):
        del tokens[fx:]
    noise = next((i for i in range(1, len(tokens)) if _NOISE_TOKEN.match(tokens[i])), None)
    if noise is not None:
        del tokens[noise:]
    # Strip trailing location words, region then city, repeatedly ("... VANCOUVER BC"); the
    # first token always stays. Two-word cities (NORTH VANCOUVER) win over one-word ones.
    while True:
        before = len(tokens)
        if len(tokens) > 1 and tokens[-1] in _REGIONS:
            tokens.pop()
        if len(tokens) > 2 and _CITY.fullmatch(" ".join(tokens[-2:])):
            del tokens[-2:]
        elif len(tokens) > 1 and _CITY.fullmatch(tokens[-1]):
            tokens.pop()
        if len(tokens) == before:
            break
    name = " ".join(tokens).strip(" -/,")
    return company if name == company else name or company.strip()  # unchanged: not a copy
