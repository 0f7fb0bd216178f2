"""Money as text: the plain form (JSON, CSV) and the form for people (table, HTML), both exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from benchtest.money import MINUS, for_people, plain


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("18377.16", "18377.16"),
        ("-1874.75", "-1874.75"),
        ("5", "5.00"),  # at least two decimals
        ("1.5", "1.50"),
        ("0.005", "0.005"),  # more than cents: kept exactly, never rounded
        ("-0.00", "0.00"),  # never a negative zero
        ("-0", "0.00"),
        ("1E+3", "1000.00"),  # never an exponent
        ("1.23E-7", "0.000000123"),
        ("9" * 30 + "." + "9" * 30, "9" * 30 + "." + "9" * 30),
    ],
)
def test_plain_money_has_two_decimals_no_exponent_and_no_negative_zero(amount, text):
    assert plain(Decimal(amount)) == text


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("18377.16", "18,377.16"),
        ("-1874.75", f"{MINUS}1,874.75"),
        ("-227.35", f"{MINUS}227.35"),
        ("0.00", "0.00"),
        ("-0.00", "0.00"),  # never a negative zero
        ("5", "5.00"),
        ("1234567.8", "1,234,567.80"),
        (
            "-1000000000000000000000000000000.01",
            f"{MINUS}1,000,000,000,000,000,000,000,000,000,000.01",
        ),
        ("0.005", "0.005"),  # more than cents: shown exactly, never rounded
        ("999.999", "999.999"),
        ("1E+3", "1,000.00"),
    ],
)
def test_money_for_people_has_separators_two_decimals_and_the_given_minus(amount, shown):
    assert for_people(Decimal(amount), minus=MINUS) == shown
    assert for_people(Decimal(amount)) == shown.replace(MINUS, "-")  # the text table's form


@pytest.mark.parametrize(
    ("amount", "places", "shown"),
    [
        ("-10000", 0, f"{MINUS}10,000"),
        ("2500", 0, "2,500"),
        ("0.25", 2, "0.25"),
        ("-0.004", 2, "0.00"),  # rounds to zero: no sign
        ("-0.006", 2, f"{MINUS}0.01"),  # rounds to a non-zero: signed
        ("1234.5", 0, "1,234"),  # half even
    ],
)
def test_axis_labels_round_to_the_given_places_and_drop_the_sign_of_zero(amount, places, shown):
    assert for_people(Decimal(amount), minus=MINUS, places=places) == shown


@pytest.mark.parametrize("digits", [26, 27, 60])
def test_whole_amounts_of_any_allowed_length_get_their_cents(digits: int) -> None:
    """Quantizing to cents needs more than the default 28 digits of precision past 26 digits."""
    assert plain(Decimal("9" * digits)) == "9" * digits + ".00"
    assert plain(Decimal("-" + "9" * digits)) == "-" + "9" * digits + ".00"
