"""Readable vendor names: noise removed, original kept by the caller."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchtest.vendors import _CITIES, _REGIONS, clean_vendor


@pytest.mark.parametrize(
    ("company", "vendor"),
    [
        ("DROPBOX xxxxxx8396 CA 9.99 USD @ xx1001", "DROPBOX"),
        ("ECHOSIGN xxxxxxxx6744 CA xx8.80 USD @ xx0878", "ECHOSIGN"),
        ("NESTERS MARKET #x0064 VANCOUVER BC", "NESTERS MARKET"),
        ("APPLE STORE #R280 VANCOUVER BC", "APPLE STORE"),
        ("COSTCO WHOLESALE #55 CO VANCOUVER", "COSTCO WHOLESALE"),
        ("SHAW CABLESYSTEMS CALGARY AB", "SHAW CABLESYSTEMS"),
        ("VANCOUVER TAXI VANCOUVER BC", "VANCOUVER TAXI"),
        ("YELLOW CAB COMPANY LTD VANCOUVER", "YELLOW CAB COMPANY LTD"),
        ("FEDEX xxxxx5291 MISSISSAUGA ON", "FEDEX"),
        ("GUILT & CO. VANCOUVER BC", "GUILT & CO."),
        ("LONDON DRUGS 78 POSTAL VANCOUVER BC", "LONDON DRUGS 78 POSTAL"),
        ("PAYMENT - THANK YOU / PAIEMENT - MERCI", "PAYMENT - THANK YOU / PAIEMENT - MERCI"),
        ("LINKEDIN LINKEDIN.COM", "LINKEDIN LINKEDIN.COM"),
        ("  SPACED   OUT   NAME  ", "SPACED OUT NAME"),
        ("VANCOUVER", "VANCOUVER"),  # nothing safe to remove
        ("#123", "#123"),
        ("", ""),
    ],
)
def test_clean_vendor(company, vendor):
    assert clean_vendor(company) == vendor


def _regex_clean(company: str) -> str:
    """The former whole-string implementation (quadratic on long inputs): the reference."""
    noise = re.compile(r"\s+(?:x{2,}\d+|#\S*)\b.*$", re.IGNORECASE)
    fx = re.compile(r"\s+x*[\d.]+\s+[A-Z]{3}\s+@\s+x*\d+\s*$", re.IGNORECASE)
    region = re.compile(r"\s+(?:" + "|".join(_REGIONS) + r")$")
    city = re.compile(
        r"\s+(?:" + "|".join(sorted(_CITIES.split("|"), key=len, reverse=True)) + r")$",
        re.IGNORECASE,
    )
    name = noise.sub("", fx.sub("", " ".join(company.split())))
    while True:
        shorter = city.sub("", region.sub("", name))
        if shorter == name:
            break
        name = shorter
    return name.strip(" -/,") or company.strip()


WORDS = ["ACME", "CO.", "-", "/", ",", "#", "#x1", "#R2-", "xx12", "XX9", "xx1a", "x1", "9.99"]
WORDS += ["usd", "USD", "@", "xx0878", "BC", "bc", "CA", "ON", "NORTH", "VANCOUVER", "Victoria"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", "  ", "\t", " \u00a0"]))))
def test_token_cleaning_matches_the_former_patterns(parts):
    company = "".join(word + space for word, space in parts)
    assert clean_vendor.__wrapped__(company) == _regex_clean(company)


def test_cleaning_time_grows_linearly_with_the_length():
    # A long run of trailing region codes took the former patterns quadratic time (30 s for
    # 24 KB). Compared as a ratio, so a slow machine does not matter: 10x the text, ~10x the time.
    def seconds(size: int) -> float:
        company = "ACME" + " BC" * (size // 3)
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            assert clean_vendor.__wrapped__(company) == "ACME"
            runs.append(time.perf_counter() - started)
        return min(runs)

    small, large = seconds(20_000), seconds(200_000)
    assert large < 30 * small + 0.05
