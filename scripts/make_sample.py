"""Write the bundled sample ledger, benchtest/sample/N.json, deterministically.

The sample is the project's own (fictional) ledger in the API's exact format, with the quirks
the real one has: a day with no activity (2026-03-07), exact duplicate pairs (one split across
a page boundary), an empty Ledger for payments, and card-statement vendor names. Its page size
(8) differs from the Bench ledger's (10), so nothing can assume one.

    python scripts/make_sample.py
"""

from __future__ import annotations

import json
from pathlib import Path

PAGE_SIZE = 8
OUT = Path(__file__).resolve().parent.parent / "benchtest" / "sample"

# Date, Ledger, Amount, Company: newest first, as the API serves them.
TRANSACTIONS = [
    ("2026-03-11", "Software Subscriptions", "-59", "FIGMA xxxxxx2231 CA 44.00 USD @ xx1341"),
    ("2026-03-11", "Meals & Entertainment", "-23.4", "BEAN AROUND THE WORLD #x0012 VANCOUVER BC"),
    ("2026-03-10", "", "4500", "PAYMENT - THANK YOU / PAIEMENT - MERCI"),
    ("2026-03-10", "Travel", "-14.25", "KINGS TAXI VANCOUVER BC"),
    ("2026-03-10", "Travel", "-14.25", "KINGS TAXI VANCOUVER BC"),
    ("2026-03-09", "Office Supplies", "-86.37", "STAPLES #x0211 BURNABY BC"),
    ("2026-03-09", "Meals & Entertainment", "-112.8", "THE ACORN RESTAURANT VANCOUVER BC"),
    ("2026-03-08", "Software Subscriptions", "-13.99", "GITHUB xxxxxx5512 CA 10.00 USD @ xx1399"),
    ("2026-03-06", "Hardware", "-1299", "BEST BUY #R114 RICHMOND BC"),
    ("2026-03-06", "Shipping", "-18.6", "CANADA POST 0912 VANCOUVER BC"),
    ("2026-03-05", "", "2500", "PAYMENT RECEIVED - THANK YOU"),
    ("2026-03-05", "Meals & Entertainment", "-7.95", "BEAN AROUND THE WORLD #x0012 VANCOUVER BC"),
    ("2026-03-04", "Phone & Internet", "-95.2", "TELUS MOBILITY xxxxxxxx7781 ON"),
    ("2026-03-04", "Hardware", "-349.99", "MEMORY EXPRESS #44 VANCOUVER BC"),
    ("2026-03-03", "Travel", "-412.6", "WESTJET xxxxxx0042 CALGARY AB"),
    ("2026-03-03", "Office Supplies", "-31.5", "LONDON DRUGS #12 VANCOUVER BC"),
    ("2026-03-03", "Office Supplies", "-31.5", "LONDON DRUGS #12 VANCOUVER BC"),
    ("2026-03-02", "", "1000", "PAYMENT - THANK YOU / PAIEMENT - MERCI"),
    ("2026-03-02", "Software Subscriptions", "-25", "SLACK xxxxxx9921 CA 17.50 USD @ xx1428"),
    ("2026-03-02", "Shipping", "-42.1", "PUROLATOR #x0099 MISSISSAUGA ON"),
    ("2026-03-02", "Meals & Entertainment", "-5.75", "JJ BEAN COFFEE VANCOUVER BC"),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    records = [
        dict(zip(("Date", "Ledger", "Amount", "Company"), t, strict=True)) for t in TRANSACTIONS
    ]
    for start in range(0, len(records), PAGE_SIZE):
        number = start // PAGE_SIZE + 1
        page = {
            "totalCount": len(records),
            "page": number,
            "transactions": records[start : start + PAGE_SIZE],
        }
        (OUT / f"{number}.json").write_text(json.dumps(page, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
