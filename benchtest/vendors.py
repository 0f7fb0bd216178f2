"""Readable vendor names from card-statement descriptors.

``DROPBOX xxxxxx8396 CA 9.99 USD @ xx1001`` -> ``DROPBOX``. The original is always kept next to
the cleaned name for audit; cleaning only removes, it never invents text.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Everything from a masked card/account number (xxxxxx8396) or a store number (#x0064, #R280)
# onwards is terminal id, location and currency noise.
_NOISE_FROM = re.compile(r"\s+(?:x{2,}\d+|#\S*)\b.*$", re.IGNORECASE)
# A foreign-currency note: "9.99 USD @ xx1001".
_FX_NOTE = re.compile(r"\s+x*[\d.]+\s+[A-Z]{3}\s+@\s+x*\d+\s*$", re.IGNORECASE)

_REGIONS = [
    "AB",
    "BC",
    "MB",
    "NB",
    "NL",
    "NS",
    "NT",
    "NU",
    "ON",
    "PE",
    "QC",
    "SK",
    "YT",
    "CA",
    "US",
]
_CITIES = (
    "VANCOUVER",
    "NORTH VANCOUVER",
    "WEST VANCOUVER",
    "BURNABY",
    "RICHMOND",
    "SURREY",
    "VICTORIA",
    "CALGARY",
    "EDMONTON",
    "TORONTO",
    "MISSISSAUGA",
    "OTTAWA",
    "MONTREAL",
    "WINNIPEG",
    "HALIFAX",
    "REGINA",
    "SASKATOON",
    "QUEBEC",
)
_TRAILING_REGION = re.compile(r"\s+(?:" + "|".join(_REGIONS) + r")$")
# Longest first, so NORTH VANCOUVER wins over VANCOUVER.
_TRAILING_CITY = re.compile(
    r"\s+(?:" + "|".join(sorted(_CITIES, key=len, reverse=True)) + r")$", re.IGNORECASE
)


@lru_cache(maxsize=4096)
def clean_vendor(company: str) -> str:
    """Return a readable vendor name; the input itself when nothing is safe to remove."""
    name = " ".join(company.split())
    name = _FX_NOTE.sub("", name)
    name = _NOISE_FROM.sub("", name)
    # Strip trailing location words, region then city, repeatedly ("... VANCOUVER BC").
    while True:
        shorter = _TRAILING_CITY.sub("", _TRAILING_REGION.sub("", name))
        if shorter == name:
            break
        name = shorter
    name = name.strip(" -/,")
    return name or company.strip()
