"""The report model: its JSON form, its types and docs/CONTRACT.md describe one shape."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest

import benchtest
from benchtest import model
from benchtest.money import plain
from benchtest.reconcile import check_assertions, compare, parse_previous
from tests.support import ROOT


def shape(value: Any) -> Any:
    """Keys in order and JSON types, recursively; a list is described by its first item."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def contract_example() -> Any:
    text = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    section = text[text.index("## Report JSON") :]
    block = re.search(r"```json\n(.*?)```", section, flags=re.S)
    assert block is not None, "docs/CONTRACT.md has no JSON example of the report"
    return json.loads(block.group(1))


@pytest.fixture(scope="module")
def reconciled_sample(sample_report):
    """The sample with an assertion, compared with a previous report that lacked its last day
    and had one transaction of its first day 1.00 lower."""
    previous = sample_report.to_dict()
    previous["daily_balances"] = previous["daily_balances"][:-1]
    for day in previous["daily_balances"]:
        day["balance"] = plain(Decimal(day["balance"]) - 1)
    first = previous["daily_balances"][0]
    first["change"] = plain(Decimal(first["change"]) - 1)
    previous["total_balance"] = previous["daily_balances"][-1]["balance"]
    edited = next(
        t for c in previous["categories"] for t in c["transactions"] if t["date"] == first["date"]
    )
    edited["amount"] = plain(Decimal(edited["amount"]) - 1)
    report = check_assertions(sample_report, [(date(2026, 3, 11), Decimal("5356.75"))])
    return compare(report, parse_previous(json.dumps(previous).encode(), "previous.json"), 10_000)


def test_contract_example_has_the_keys_order_and_types_of_a_real_report(reconciled_sample):
    changes = reconciled_sample.changes
    assert (
        len(changes.restated_days)
        == len(changes.new_days)
        == len(changes.transaction_changes)
        == len(reconciled_sample.assertions)
        == 1
    )
    assert changes.transaction_changes[0].change == "changed"
    assert shape(contract_example()) == shape(reconciled_sample.to_dict())


def json_keys(obj: msgspec.Struct) -> list[str]:
    """The JSON keys of a struct as written: omitted defaults left out."""
    fields = msgspec.structs.fields(obj)
    omit = type(obj).__struct_config__.omit_defaults
    return [f.encode_name for f in fields if not (omit and getattr(obj, f.name) == f.default)]


def test_every_object_in_the_json_has_its_struct_fields_as_keys(reconciled_sample):
    def check(obj: Any, form: Any) -> int:
        assert list(form) == json_keys(obj)
        count = 1
        for field in msgspec.structs.fields(obj):
            value = getattr(obj, field.name)
            shown = form.get(field.encode_name)
            if isinstance(value, msgspec.Struct):
                count += check(value, shown)
            elif isinstance(value, tuple) and value and isinstance(value[0], msgspec.Struct):
                count += sum(check(item, part) for item, part in zip(value, shown, strict=True))
        return count

    assert check(reconciled_sample, reconciled_sample.to_dict()) > (
        1 + len(reconciled_sample.daily_balances) + 3
    )


def test_only_the_category_keeps_the_apis_word_in_the_json():
    renamed = {
        (cls.__name__, f.name, f.encode_name)
        for cls in (
            model.CategoryTotal,
            model.DuplicateGroup,
            model.Report,
            model.Changes,
            model.Transaction,
            model.TransactionChange,
        )
        for f in msgspec.structs.fields(cls)
        if f.encode_name != f.name
    }
    assert renamed == {
        ("CategoryTotal", "category", "ledger"),
        ("DuplicateGroup", "category", "ledger"),
        ("Transaction", "category", "ledger"),
    }


def test_money_is_written_plain_and_read_back_only_plain():
    day = model.DailyBalance(date(2024, 1, 2), model.Money("-0.0"), model.Money("1E+3"), 2)
    assert model.to_builtins((day,)) == [
        {"date": "2024-01-02", "change": "0.00", "balance": "1000.00", "count": 2}
    ]
    for bad in ('"NaN"', '"1e3"', '"1_000.00"', '" 5.00"', "5.00", '"5"'):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(
                f'{{"date":"2024-01-02","change":{bad},"balance":"1.00","count":1}}',
                type=model.DailyBalance,
                dec_hook=model.read_money,
            )


def test_a_report_is_read_back_through_the_same_types(reconciled_sample):
    """One schema: the JSON a report is written as decodes to the same report."""
    again = model.decode(model.encode(reconciled_sample))
    assert again == reconciled_sample
    assert model.encode(again) == model.encode(reconciled_sample)


def test_json_format_prints_to_dict_in_its_key_order(sample_report):
    text = benchtest.render(sample_report, "json")
    assert json.loads(text) == sample_report.to_dict()
    assert list(json.loads(text)) == list(sample_report.to_dict())
    assert text.endswith("}\n")


def test_the_report_cannot_be_changed_after_it_is_built(sample_report):
    with pytest.raises(AttributeError, match="immutable"):
        sample_report.total_balance = 0


def test_an_unknown_format_is_refused_naming_the_choices(sample_report):
    with pytest.raises(
        ValueError, match=r"unknown format 'pdf'; choose from table, json, csv, html"
    ):
        benchtest.render(sample_report, "pdf")


def test_every_benchtest_name_in_the_contract_exists() -> None:
    """The contract's API section names only what the package really has."""
    text = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    names = set(re.findall(r"`benchtest\.([A-Za-z_]+)", text))
    assert {"run", "render", "load_settings", "Report", "FORMATS"} <= names
    for name in names:
        assert hasattr(benchtest, name), name


def test_a_report_says_when_in_utc_to_the_second_and_by_what():
    at = datetime(2026, 3, 12, 7, 0, 3, 999_999, tzinfo=timezone(timedelta(hours=1)))
    report = benchtest.run(benchtest.Settings(), generated_at=at).report
    assert report.to_dict()["generated_at"] == "2026-03-12T06:00:03Z"
    assert report.to_dict()["generated_by"] == f"benchtest {benchtest.__version__}"
    again = benchtest.run(benchtest.Settings(), generated_at=at).report
    assert again.pages_digest != report.pages_digest  # the sample is served on another port
    again = msgspec.structs.replace(again, pages_digest=report.pages_digest)
    assert benchtest.render(again, "json") == benchtest.render(report, "json")
    now = benchtest.run(benchtest.Settings()).report.generated_at
    assert (now.tzinfo, now.microsecond) == (UTC, 0)
    assert abs(datetime.now(UTC) - now) < timedelta(minutes=1)
