"""Money as text, in one place: the plain form machines read and the form people read."""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow

MINUS = "\N{MINUS SIGN}"  # U+2212: the HTML report's minus sign; text and JSON keep "-"
_CENT = Decimal("0.01")

MAX_AMOUNT_DIGITS = 60  # digits in one amount, integer and fraction together (validated per record)

# Sums must be exact: with 28 digits of default precision a large ledger could round silently.
# An amount has at most MAX_AMOUNT_DIGITS (60) digits, so it is below 10^60 with at most 60
# decimal places; a sum of at most 10^11 of them (1,000,000 pages of MAX_PAGE_RECORDS) is below
# 10^71 with at most 60 places: 131 digits, so 132 always suffice (tests/test_hostile_data.py
# checks the worst case). Inexact stays trapped, so a rounding could only be an error.
EXACT = Context(prec=2 * MAX_AMOUNT_DIGITS + 12, traps=[Inexact, InvalidOperation, Overflow])


def plain(value: Decimal) -> str:
    """JSON and CSV: at least two decimals, never an exponent, never ``-0`` (``-1874.75``)."""
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(_CENT, context=EXACT)  # 27+ integer digits: not at prec 28
    text = f"{value:f}"
    return text[1:] if value.is_zero() and text.startswith("-") else text


def for_people(value: Decimal, *, minus: str = "-", places: int | None = None) -> str:
    """Thousands separators and ``minus`` before a negative amount (``-1,874.75``).

    With ``places=None`` at least two decimals are shown and never fewer than the value has, so
    the text is the exact amount (``3`` -> ``3.00``, ``0.005`` -> ``0.005``). A fixed ``places``
    rounds, for axis labels only; an amount that rounds to zero is shown without a sign.
    """
    if places is None:
        exponent = value.as_tuple().exponent
        places = max(2, -exponent) if isinstance(exponent, int) else 2
    text = f"{value.copy_abs():,.{places}f}"
    negative = value.is_signed() and text.strip("0.,") != ""
    return minus + text if negative else text


# ISO 4217's active currencies by minor-unit exponent (amendment 179, 2025): a table, not a
# dependency (babel or pycountry would add megabytes for 180 codes). Funds and metals are not
# money a ledger moves; an unknown code is refused, never guessed.
_EXPONENTS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
    2: "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP "
    "LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR "
    "NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR "
    "ZMW ZWG",
}
EXPONENTS = {code: places for places, codes in _EXPONENTS.items() for code in codes.split()}
