"""Readable vendor names: noise removed, original kept by the caller."""

from __future__ import annotations

import pytest

from benchtest.vendors import clean_vendor


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
