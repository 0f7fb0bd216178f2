"""Eight real transaction APIs on loopback, each in its documented shape, over one ledger.

Issue 24's evidence. `LEDGER` is one table of 30 transactions; each `Api` renders it as the
vendor documents its records (the pages are named above each render function; only a few of
each record's other fields are kept), pages it the documented way, checks the documented auth
header, and carries a description in the provisional settings vocabulary (notes/vocab24.md)
and, through `expected`, the report that description must give, from `LEDGER` alone.
"""

from __future__ import annotations

import base64
import configparser
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, cast
from zoneinfo import ZoneInfo

import msgspec

from benchtest.source import PageHandler, serving
from tests.ledger_server import Response, RouteServer, target

ORIGIN = "https://api.example"  # in the descriptions; a test puts its server's origin there
PER_PAGE = 10
_NUMBERS = msgspec.json.Encoder(decimal_format="number")  # a Decimal as a JSON number, exactly


# --- the canonical ledger -------------------------------------------------------------------


@dataclass(frozen=True)
class Txn:
    n: int
    at: datetime  # the instant (UTC); each API shows it in its own form and offset
    amount: Decimal  # what the balance moved by: + is money in
    fee: Decimal  # a processor's fee, already out of `amount` (gross = amount + fee)
    category: str
    counterparty: str | None  # None: the API's optional name is null or absent
    state: str  # posted | pending (not settled) | void (declined, cancelled, deleted)
    foreign: bool  # in EUR, not the account's own currency


def txn(n: int, at: str, amount: str, fee: str, category: str, who: str | None, *flags: str) -> Txn:
    state = next((f for f in flags if f in ("pending", "void")), "posted")
    when = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return Txn(n, when, Decimal(amount), Decimal(fee), category, who, state, "EUR" in flags)


# 2024-03-25 … 04-06 UTC, near midnight somewhere on purpose: 04:00Z is midnight in New York
# (EDT), 05:00Z in Chicago, 06:00Z in Denver, 07:00Z in Los Angeles; London moves from GMT to
# BST at 01:00Z on 03-31. Rows 2, 14, 16, 24 and 29 fall on the day before in every American
# calendar here, rows 15 and 28 on the day after in London's; 04-03 (or 03-27, further west)
# has no transaction at all.
LEDGER = [
    txn(1, "2024-03-25T14:05", "1250.00", "36.55", "Sales", "ACME CORP"),
    txn(2, "2024-03-26T03:50", "-49.99", "0", "Software", "GitHub"),
    txn(3, "2024-03-26T16:20", "-6.75", "0", "Travel", "Blue Bottle Coffee"),
    txn(4, "2024-03-26T23:40", "310.40", "9.30", "Sales", None),
    txn(5, "2024-03-27T04:15", "-1200.00", "0", "Travel", "Delta Air Lines"),
    txn(6, "2024-03-27T18:00", "89.00", "2.88", "Sales", "Globex", "EUR"),
    txn(7, "2024-03-28T06:30", "-15.00", "0", "Software", "GitHub", "pending"),
    txn(8, "2024-03-28T12:00", "2400.00", "69.90", "Sales", "ACME CORP"),
    txn(9, "2024-03-28T22:10", "-120.00", "0", "Refunds", "Globex"),
    txn(10, "2024-03-29T05:20", "-42.10", "0", "Travel", "Blue Bottle Coffee"),
    txn(11, "2024-03-29T15:45", "-310.40", "0", "Refunds", None),
    txn(12, "2024-03-30T02:00", "-75.00", "0", "Travel", "Delta Air Lines", "void"),
    txn(13, "2024-03-30T17:30", "640.00", "18.86", "Sales", "Globex"),
    txn(14, "2024-03-31T00:30", "-19.99", "0", "Software", "GitHub"),
    txn(15, "2024-03-31T23:30", "-250.00", "0", "Travel", "Delta Air Lines"),
    txn(16, "2024-04-02T03:55", "1875.25", "54.68", "Sales", "ACME CORP"),
    txn(17, "2024-04-02T14:00", "-89.00", "0", "Refunds", "Globex", "EUR"),
    txn(18, "2024-04-02T16:10", "-8.40", "0", "Travel", "Blue Bottle Coffee", "pending"),
    txn(19, "2024-04-02T20:00", "45.00", "1.61", "Sales", None),
    txn(20, "2024-04-04T04:05", "-2000.00", "0", "Software", "Atlassian"),
    txn(21, "2024-04-04T11:00", "960.00", "28.14", "Sales", "ACME CORP"),
    txn(22, "2024-04-04T13:30", "-35.50", "0", "Travel", "Blue Bottle Coffee", "void"),
    txn(23, "2024-04-04T19:15", "-12.00", "0", "Software", "GitHub"),
    txn(24, "2024-04-05T03:30", "150.00", "4.65", "Sales", "Globex"),
    txn(25, "2024-04-05T07:20", "-64.00", "0", "Travel", "Delta Air Lines", "EUR"),
    txn(26, "2024-04-05T12:40", "300.00", "9.00", "Sales", "ACME CORP", "pending"),
    txn(27, "2024-04-05T18:25", "-22.75", "0", "Travel", "Blue Bottle Coffee"),
    txn(28, "2024-04-05T23:20", "-99.00", "0", "Software", "Atlassian"),
    txn(29, "2024-04-06T02:30", "410.00", "12.19", "Sales", "Globex"),
    txn(30, "2024-04-06T05:45", "-5.25", "0", "Travel", "Blue Bottle Coffee"),
]
COUNTED = [t for t in LEDGER if t.state == "posted" and not t.foreign]  # what every report sums
TOTAL = Decimal("3902.42")  # their sum, pinned (tests/test_vendor_apis_today.py checks it)


def local(t: Txn, zone: str) -> datetime:
    return t.at.astimezone(ZoneInfo(zone))


def listed(api: Api, order: str = "newest") -> list[Txn]:
    """The rows ``api`` lists, in its documented order."""
    return sorted(filter(api.shows, LEDGER), key=lambda t: t.at, reverse=order == "newest")


def chunks(records: list[Any], size: int = PER_PAGE) -> list[list[Any]]:
    return [records[k : k + size] for k in range(0, len(records), size)] or [[]]


def ident(api: str, t: Txn) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://benchtest.example/{api}/{t.n}"))


def cents(amount: Decimal) -> int:
    return int(amount * 100)  # USD and EUR have two decimals (ISO 4217)


def encode(doc: object) -> bytes:
    return _NUMBERS.encode(doc)


# --- what a description must give -----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    total: Decimal
    daily: list[tuple[date, Decimal]]  # every day from the first to the last: closing balance
    count: int  # transactions in the report
    left_out: int  # records served but left out (a status filtered, another currency)


def expected(api: Api) -> Outcome:
    """The report, from `LEDGER` alone: the posted records in the account's own currency on
    their dates in `api.zone`, the calendar the vendor's dates are days of."""
    change: dict[date, Decimal] = {}
    for t in COUNTED:
        day = local(t, api.zone).date()
        change[day] = change.get(day, Decimal(0)) + t.amount
    first, last = min(change), max(change)
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    daily = list(zip(days, accumulate(change.get(d, Decimal(0)) for d in days), strict=True))
    return Outcome(daily[-1][1], daily, len(COUNTED), len(listed(api)) - len(COUNTED))


def figures(report: str) -> tuple[Decimal, list[tuple[date, Decimal]], int]:
    """A JSON report's total, daily closing balances and transaction count, as `Outcome` has
    them: compared as Decimals, so "12.5" and "12.50" are equal."""
    doc = json.loads(report)
    daily = [(date.fromisoformat(d["date"]), Decimal(d["balance"])) for d in doc["daily_balances"]]
    return Decimal(doc["total_balance"]), daily, doc["transaction_count"]


# --- an API: its records, its pages, its auth, its description ------------------------------


@dataclass(frozen=True)
class Api:
    name: str  # the sites.conf section
    docs: tuple[str, ...]  # the documentation its shape and paging follow
    zone: str  # the calendar its dates are days of (see `expected`)
    shows: Callable[[Txn], bool]  # which ledger rows it lists at all
    routes: Callable[[str], dict[str, Response]]  # request target -> page, given the origin
    conf: str  # its description in the new vocabulary, at ORIGIN
    token: str  # BENCH_AUTH_TOKEN: the value of the header `auth_header` names
    auth_header: str = "Authorization"
    headers: Mapping[str, str] = field(default_factory=dict)  # others it requires
    post: Callable[[dict[str, Any]], tuple[int, bytes]] | None = None  # POST-only (Plaid)

    def section(self, origin: str, conf: str | None = None) -> str:
        """This API's sites.conf section (or ``conf`` under its name), at ``origin``."""
        return f"[{self.name}]\n{(conf or self.conf).strip().replace(ORIGIN, origin)}\n"

    def overrides(self, origin: str = ORIGIN) -> dict[str, str]:
        """The description as settings overrides (``load_settings(overrides=...)``)."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(self.section(origin))
        return dict(parser.items(self.name))


# --- Stripe: balance transactions -----------------------------------------------------------
# Object: https://docs.stripe.com/api/balance_transactions/object ("amount … in cents; a
#   positive value represents funds charged to another party"; fee; net = amount - fee, what
#   the balance moved by; created in Unix seconds; currency lowercase).
# Example record: https://docs.stripe.com/api/balance_transactions/retrieve
# List: https://docs.stripe.com/api/balance_transactions/list (limit 1-100, newest first,
#   starting_after = the last object's id) and https://docs.stripe.com/api/pagination (the
#   list object {"object": "list", "url", "has_more", "data"}).
# `status` "pending" means the funds are not yet *available*: the balance did move, so a
# correct description keeps those records (five here). A declined or uncaptured charge makes
# no balance transaction: the ledger's pending and void rows are not listed.
SERVED_AT = datetime(2024, 4, 6, 12, tzinfo=UTC)  # when the pages are "fetched"
STRIPE_TYPE = {"Sales": "charge", "Refunds": "refund"}  # card spend: Stripe Issuing


def stripe_record(t: Txn) -> dict[str, Any]:
    currency, available = "eur" if t.foreign else "usd", t.at + timedelta(days=2)
    kind = STRIPE_TYPE.get(t.category, "issuing_transaction")
    fees = [{"amount": cents(t.fee), "currency": currency, "type": "stripe_fee"}] if t.fee else []
    return {
        "id": f"txn_1P{t.n:02d}LoopBackBenchTest",
        "object": "balance_transaction",
        "amount": cents(t.amount + t.fee),
        "available_on": int(available.timestamp()),
        "created": int(t.at.timestamp()),
        "currency": currency,
        "description": t.counterparty,  # documented nullable
        "fee": cents(t.fee),
        "fee_details": fees,
        "net": cents(t.amount),
        "reporting_category": kind,
        "status": "available" if available <= SERVED_AT else "pending",
        "type": kind,
    }


def stripe_routes(origin: str) -> dict[str, Response]:
    pages = chunks([stripe_record(t) for t in listed(STRIPE)])
    routes: dict[str, Response] = {}
    for k, page in enumerate(pages):
        after = f"&starting_after={pages[k - 1][-1]['id']}" if k else ""
        more = k < len(pages) - 1
        doc = {"object": "list", "url": "/v1/balance_transactions", "has_more": more, "data": page}
        routes[f"/v1/balance_transactions?limit={PER_PAGE}{after}"] = (encode(doc), {})
    return routes


STRIPE = Api(
    name="stripe",
    docs=(
        "https://docs.stripe.com/api/balance_transactions/object",
        "https://docs.stripe.com/api/balance_transactions/retrieve",
        "https://docs.stripe.com/api/balance_transactions/list",
        "https://docs.stripe.com/api/pagination",
    ),
    zone="America/New_York",
    shows=lambda t: t.state == "posted",
    routes=stripe_routes,
    conf=f"""
# Stripe balance transactions: integer cents, Unix seconds, the cursor is the last record's id.
url = {ORIGIN}/v1/balance_transactions?limit={PER_PAGE}
paging = last_record
cursor_field = id
cursor_param = starting_after
page_end = flag
more_path = has_more
records_path = data
total_path = none
date_field = created
date_form = epoch_s
time_zone = America/New_York
# net = amount - fee: what the balance moved by (amount is the gross)
amount_field = net
amount_form = minor
currency_field = currency
currency = USD
category_field = reporting_category
counterparty_field = description
headers = Stripe-Version=2024-04-10
""",
    token="Bearer sk_test_loopback_benchtest",
)


# --- Plaid: /transactions/get ---------------------------------------------------------------
# https://plaid.com/docs/api/products/transactions/#transactionsget : POST only; a JSON body
#   with client_id and secret (or the PLAID-CLIENT-ID and PLAID-SECRET headers), access_token,
#   start_date, end_date, options.count (default 100, at most 500) and options.offset; the
#   response {accounts, transactions (newest first), total_transactions, item, request_id}.
#   The record follows the example response of Plaid's OpenAPI file (mirrored at raw.github
#   usercontent.com/api-evangelist/plaid/…/plaid-transactions--openapi-original.yml).
# amount: "Positive values when money moves out of the account; negative values when money
#   moves in" (Plaid's schema, as plaid-ruby's Plaid::Transaction#amount gives it); pending a
#   boolean; merchant_name and datetime documented nullable. count/offset in a request body:
#   https://support.plaid.com/hc/en-us/articles/360008271474 . A GET is answered 405 with
#   Allow: POST here; what Plaid answers to a GET is not documented.
PLAID_CATEGORY = {"Sales": "INCOME", "Refunds": "TRANSFER_OUT", "Software": "GENERAL_SERVICES"}
PLAID_ACCOUNT = "BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp"  # the example's


def plaid_record(t: Txn) -> dict[str, Any]:
    day = local(t, PLAID.zone).date().isoformat()  # the institution's own date
    primary = PLAID_CATEGORY.get(t.category, "TRAVEL")
    return {
        "account_id": PLAID_ACCOUNT,
        "amount": -t.amount,  # positive = money out
        "iso_currency_code": "USD",
        "date": day,
        "datetime": None,
        "authorized_date": day,
        "location": {"address": None, "city": None, "region": None},
        "merchant_name": t.counterparty,
        "name": (t.counterparty or "STRIPE TRANSFER").upper(),
        "pending": t.state == "pending",
        "personal_finance_category": {"primary": primary, "confidence_level": "HIGH"},
        "transaction_id": ident("plaid", t),
    }


def plaid_post(doc: dict[str, Any]) -> tuple[int, bytes]:
    """One page of /transactions/get, from the request body's options.count and .offset."""
    if not all(doc.get(key) for key in ("access_token", "start_date", "end_date")):
        return 400, encode({"error_type": "INVALID_REQUEST", "error_code": "MISSING_FIELDS"})
    options = doc.get("options") or {}
    count, offset = int(options.get("count", 100)), int(options.get("offset", 0))
    rows = [plaid_record(t) for t in listed(PLAID)]
    return 200, encode(
        {
            "accounts": [{"account_id": PLAID_ACCOUNT, "name": "Plaid Checking"}],
            "transactions": rows[offset : offset + count],
            "total_transactions": len(rows),
            "item": {"item_id": "eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6"},
            "request_id": "45QSn",
        }
    )


PLAID = Api(
    name="plaid",
    docs=(
        "https://plaid.com/docs/api/products/transactions/#transactionsget",
        "https://support.plaid.com/hc/en-us/articles/360008271474-Transactions-returned-per-request",
    ),
    zone="America/New_York",
    shows=lambda t: t.state != "void" and not t.foreign,
    routes=lambda origin: {},
    conf=f"""
# Plaid pages in a POST body (options.count, options.offset): refused with a line naming
# POST-body paging unless that is supported; were it a GET, this would describe it.
url = {ORIGIN}/transactions/get?count={{limit}}&offset={{offset}}
paging = offset
limit = {PER_PAGE}
records_path = transactions
total_path = total_transactions
date_field = date
amount_field = amount
amount_form = number
sign = inverted
skip_field = pending
skip_values = true
category_field = personal_finance_category.primary
counterparty_field = merchant_name
auth_header = PLAID-SECRET
headers = PLAID-CLIENT-ID=loopback-client-id
""",
    token="loopback-plaid-secret",
    auth_header="PLAID-SECRET",
    headers={"PLAID-CLIENT-ID": "loopback-client-id"},
    post=plaid_post,
)


# --- Mercury: list account transactions -----------------------------------------------------
# https://docs.mercury.com/reference/listaccounttransactions : GET /api/v1/account/{id}/
#   transactions with a bearer token; limit (1-1000, default 1000), offset, order (default
#   desc), status, start ("If not provided, defaults to 30 days before the current date"), end.
# The record: https://docs.mercury.com/reference/accountidtransactiontransactionid (amount a
#   number, negative = money out; postedAt a date-time or null; status pending | sent |
#   cancelled | failed; counterpartyName; mercuryCategory). The list response is {"total",
#   "transactions"}; that total counts every match, not the page, is assumed (not exemplified).
MERCURY_PATH = "/api/v1/account/e9c6a5a0-1f3b-4a7e-9a61-5c4a2e7d8b10/transactions"
MERCURY_STATUS = {"posted": "sent", "pending": "pending", "void": "cancelled"}
MERCURY_START = "2024-03-01"


def mercury_record(t: Txn) -> dict[str, Any]:
    card, stamp = t.category in ("Software", "Travel"), t.at.isoformat().replace("+00:00", "Z")
    return {
        "id": ident("mercury", t),
        "amount": t.amount,
        "createdAt": stamp,
        "postedAt": stamp if t.state == "posted" else None,
        "status": MERCURY_STATUS[t.state],
        "bankDescription": (t.counterparty or "STRIPE TRANSFER").upper(),
        "counterpartyName": t.counterparty or "Stripe",
        "kind": "debitCardTransaction" if card else "externalTransfer",
        "mercuryCategory": t.category if card else None,
        "details": None,
    }


def mercury_routes(origin: str) -> dict[str, Response]:
    """Every page the description's filters can ask for: with and without start (without it,
    the default window, the last 30 days, holds none of this 2024 ledger), and status=sent."""
    routes: dict[str, Response] = {}
    for start in (None, MERCURY_START):
        for status in (None, "sent"):
            rows = [
                mercury_record(t)
                for t in (listed(MERCURY) if start else [])
                if status in (None, MERCURY_STATUS[t.state])
            ]
            query = f"limit={PER_PAGE}" + (f"&start={start}" if start else "")
            query += f"&status={status}" if status else ""
            for offset in range(len(rows) + PER_PAGE + 1):  # any offset, as the API takes
                page = {"total": len(rows), "transactions": rows[offset : offset + PER_PAGE]}
                routes[f"{MERCURY_PATH}?{query}&offset={offset}"] = (encode(page), {})
    return routes


MERCURY = Api(
    name="mercury",
    docs=(
        "https://docs.mercury.com/reference/listaccounttransactions",
        "https://docs.mercury.com/reference/accountidtransactiontransactionid",
    ),
    zone="America/New_York",
    shows=lambda t: not t.foreign,
    routes=mercury_routes,
    conf=f"""
# Mercury: offsets and a total; name a start date (the default window is the last 30 days).
# Pending and cancelled records have postedAt null: left out by their status.
url = {ORIGIN}{MERCURY_PATH}?limit={{limit}}&offset={{offset}}&start={MERCURY_START}
paging = offset
limit = {PER_PAGE}
records_path = transactions
total_path = total
date_field = postedAt
date_form = timestamp
time_zone = America/New_York
amount_field = amount
amount_form = number
skip_field = status
skip_values = pending, cancelled, failed
category_field = mercuryCategory
counterparty_field = counterpartyName
""",
    token="Bearer secret-token:mercury_production_loopback",
)


# --- UK Open Banking: account transactions (Read/Write API v3.1, AISP) ----------------------
# Example response (followed field for field, trimmed):
#   https://openbankinguk.github.io/read-write-api-site3/v3.1.10/resources-and-data-models/aisp/Transactions.html
#   ("Get Account Transactions Response": Data.Transaction[]; Amount {Amount: "10.00", a
#   string and never negative; Currency}; CreditDebitIndicator Credit | Debit; Status Booked |
#   Pending; BookingDateTime with its offset; an optional running Balance with its own
#   Amount.Amount and CreditDebitIndicator; Links.Self; Meta.TotalPages).
# Paging: https://openbankinguk.github.io/read-write-api-site3/v3.1.10/profiles/read-write-data-api-profile.html
#   (Links First, Prev, Next, Last as absolute URLs; Meta.TotalPages counts pages, not
#   records). The example has one page: Links.Next is documented, not exemplified; it is
#   absent on the last page here. There is no void status: a declined payment is not listed.
OB_PATH = "/open-banking/v3.1/aisp/accounts/22289/transactions"


def ob_record(t: Txn, balance: Decimal | None) -> dict[str, Any]:
    stamp = local(t, OPEN_BANKING.zone).isoformat()  # +00:00, then +01:00 from 03-31
    record: dict[str, Any] = {
        "AccountId": "22289",
        "TransactionId": str(1000 + t.n),
        "Amount": {"Amount": f"{abs(t.amount):.2f}", "Currency": "EUR" if t.foreign else "GBP"},
        "CreditDebitIndicator": "Credit" if t.amount > 0 else "Debit",
        "Status": "Booked" if t.state == "posted" else "Pending",
        "BookingDateTime": stamp,
        "ValueDateTime": stamp,
        "TransactionInformation": t.counterparty or "Card takings",
        "BankTransactionCode": {
            "Code": "ReceivedCreditTransfer" if t.amount > 0 else "IssuedCreditTransfer",
            "SubCode": "DomesticCreditTransfer",
        },
    }
    if balance is not None:  # optional: here on booked records in the account's currency
        amount = {"Amount": f"{abs(balance):.2f}", "Currency": "GBP"}
        indicator = "Credit" if balance >= 0 else "Debit"
        record["Balance"] = {"Amount": amount, "CreditDebitIndicator": indicator}
    return record


def ob_routes(origin: str) -> dict[str, Response]:
    balance, records = Decimal("5000.00"), []
    for t in listed(OPEN_BANKING, "oldest"):
        booked = t.state == "posted" and not t.foreign
        balance += t.amount if booked else 0
        records.append(ob_record(t, balance if booked else None))
    pages = chunks(records)

    def url(k: int) -> str:
        return origin + OB_PATH + (f"?page={k + 1}" if k else "")

    routes: dict[str, Response] = {}
    for k, page in enumerate(pages):
        links = {"Self": url(k), "First": url(0), "Last": url(len(pages) - 1)}
        links |= {"Prev": url(k - 1)} if k else {}
        links |= {"Next": url(k + 1)} if k < len(pages) - 1 else {}
        meta = {"TotalPages": len(pages), "FirstAvailableDateTime": "2023-04-01T00:00:00+00:00"}
        doc = {"Data": {"Transaction": page}, "Links": links, "Meta": meta}
        routes[url(k).removeprefix(origin)] = (encode(doc), {})
    return routes


OPEN_BANKING = Api(
    name="open_banking",
    docs=(
        "https://openbankinguk.github.io/read-write-api-site3/v3.1.10/resources-and-data-models/aisp/Transactions.html",
        "https://openbankinguk.github.io/read-write-api-site3/v3.1.10/profiles/read-write-data-api-profile.html",
    ),
    zone="Europe/London",
    shows=lambda t: t.state != "void",
    routes=ob_routes,
    conf=f"""
# UK Open Banking v3.1: unsigned amounts, the direction in CreditDebitIndicator; Links.Next is
# absent on the last page; Meta.TotalPages counts pages (not records), so no total_path.
url = {ORIGIN}{OB_PATH}
paging = next_url
next_path = Links.Next
page_end = absent
records_path = Data.Transaction
total_path = none
date_field = BookingDateTime
date_form = timestamp
time_zone = Europe/London
amount_field = Amount.Amount
sign = field
sign_field = CreditDebitIndicator
sign_values = Credit=+, Debit=-
skip_field = Status
skip_values = Pending
currency_field = Amount.Currency
currency = GBP
category_field = BankTransactionCode.Code
counterparty_field = TransactionInformation
""",
    token="Bearer Az90SAOJklae",  # the docs' example request's
)


# --- Xero: BankTransactions -----------------------------------------------------------------
# https://developer.xero.com/documentation/api/accounting/banktransactions : GET
#   /api.xro/2.0/BankTransactions?page=N ("Up to 100 bank transactions will be returned in a
#   single API call"), the xero-tenant-id header required beside the bearer token; Type
#   RECEIVE | SPEND (and -OVERPAYMENT, -PREPAYMENT, -TRANSFER); Status AUTHORISED | DELETED.
# Example response (Xero's OpenAPI, XeroAPI/Xero-OpenAPI, as developers.qodex.ai shows it):
#   the envelope {Id, Status "OK", ProviderName, DateTimeUTC, BankTransactions}; Total a JSON
#   number, never negative; CurrencyCode; Contact.Name; "Date": "/Date(1476316800000+0000)/"
#   beside "DateString": "2016-10-13T00:00:00": the organisation's own date as midnight UTC.
#   So Date is read in UTC whatever the organisation's zone (Los Angeles here); naming that
#   zone would put every record on the day before. An empty list past the last page is
#   documented for paging, not exemplified. The account code (a category) is in LineItems[],
#   a list: out of reach of a dotted path.
XERO_TENANT = "45e4708e-d862-4111-ab3a-dd8cd03913e1"


def ms_json(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def xero_record(t: Txn) -> dict[str, Any]:
    day, total = local(t, XERO.zone).date(), abs(t.amount)
    return {
        "BankTransactionID": ident("xero", t),
        "BankAccount": {"Code": "088", "Name": "Business Wells Fargo"},
        "Type": "RECEIVE" if t.amount > 0 else "SPEND",
        "IsReconciled": True,
        "Contact": {"Name": t.counterparty or "Walk-in customer"},
        "DateString": f"{day}T00:00:00",
        "Date": ms_json(datetime.combine(day, time(), UTC)),
        "Status": "DELETED" if t.state == "void" else "AUTHORISED",
        "LineItems": [{"Description": t.category, "LineAmount": total, "AccountCode": "400"}],
        "Total": total,
        "UpdatedDateUTC": ms_json(t.at),
        "CurrencyCode": "EUR" if t.foreign else "USD",
    }


def xero_routes(origin: str) -> dict[str, Response]:
    pages = [*chunks([xero_record(t) for t in listed(XERO, "oldest")], 100), [], []]
    envelope = {"Id": "18e7e80c-5dca-4a57-974e-8b572cc5efe8", "Status": "OK"}
    envelope |= {"ProviderName": "benchtest loopback", "DateTimeUTC": "/Date(1712404800000)/"}
    return {
        f"/api.xro/2.0/BankTransactions?page={k + 1}": (
            encode(envelope | {"BankTransactions": page}),
            {},
        )
        for k, page in enumerate(pages)  # and two empty pages past the last
    }


XERO = Api(
    name="xero",
    docs=(
        "https://developer.xero.com/documentation/api/accounting/banktransactions",
        "https://developers.qodex.ai/xeroapi/accounting-api/bank-transactions/allows-you-to-retrieve-any-spend-or-receive-money-transactions",
    ),
    zone="America/Los_Angeles",
    shows=lambda t: t.state != "pending",
    routes=xero_routes,
    conf=f"""
# Xero: page numbers, 100 a page, an empty list past the end; unsigned Totals with the
# direction in Type; Date is the organisation's date at midnight UTC, so it is read in UTC.
url = {ORIGIN}/api.xro/2.0/BankTransactions?page={{page}}
paging = page
page_end = empty
page_path = none
records_path = BankTransactions
total_path = none
date_field = Date
date_form = ms_json
time_zone = UTC
amount_field = Total
amount_form = number
sign = field
sign_field = Type
sign_values = RECEIVE=+, SPEND=-
skip_field = Status
skip_values = DELETED, VOIDED
currency_field = CurrencyCode
currency = USD
category_field = none
counterparty_field = Contact.Name
headers = xero-tenant-id={XERO_TENANT}
""",
    token="Bearer xero-loopback-access-token",
    headers={"xero-tenant-id": XERO_TENANT},
)


# --- PayPal: transaction search (/v1/reporting/transactions) -------------------------------
# https://developer.paypal.com/docs/api/transaction-search/v1/ and its OpenAPI file
#   (github.com/paypal/paypal-rest-api-specifications, openapi/reporting_transactions_v1.json):
#   start_date and end_date required (at most 31 days apart), page_size (1-500, default 100),
#   page (from 1); the response {transaction_details[], account_number, page, total_items,
#   total_pages, links[] (HATEOAS, rel self | next | last), …}; transaction_info with
#   transaction_amount and fee_amount {currency_code, value (a string)} and transaction_status
#   D (denied) | P (pending) | S (success) | V (reversed).
# Not exemplified in the spec: dates come as "2021-04-25T20:26:41+0000" (±hhmm, no colon) and
#   fee_amount is negative ("-100.00") and absent without a fee, as captured responses in
#   public code show (e.g. OCA's account_statement_import_online_paypal tests): the balance
#   moves by transaction_amount + fee_amount. total_items is documented as "the total number
#   of transactions … beginning with the specified page": the whole count, on every page,
#   here. What a page past the last holds is not documented: an empty list here. payer_name
#   is absent, not null, where there is none.
PAYPAL_PATH = "/v1/reporting/transactions"
PAYPAL_QUERY = "start_date=2024-03-20T00:00:00Z&end_date=2024-04-10T00:00:00Z&fields=all"
PAYPAL_STATUS = {"posted": "S", "pending": "P", "void": "D"}
PAYPAL_EVENT = {"Sales": "T0006", "Refunds": "T1107"}  # spend: T0003, a pre-approved payment


def paypal_record(t: Txn) -> dict[str, Any]:
    currency = "EUR" if t.foreign else "USD"
    info: dict[str, Any] = {
        "transaction_id": f"9X{t.n:04d}LOOPBACK001",
        "transaction_event_code": PAYPAL_EVENT.get(t.category, "T0003"),
        "transaction_initiation_date": t.at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "transaction_amount": {"currency_code": currency, "value": f"{t.amount + t.fee:.2f}"},
    }
    if t.fee:
        info["fee_amount"] = {"currency_code": currency, "value": f"{-t.fee:.2f}"}
    info |= {"transaction_status": PAYPAL_STATUS[t.state], "transaction_subject": t.category}
    payer: dict[str, Any] = {"account_id": "ZZQ3C9J8Q6V7Y", "country_code": "US"}
    if t.counterparty:
        payer["payer_name"] = {"alternate_full_name": t.counterparty}
    return {"transaction_info": info, "payer_info": payer, "shipping_info": {}, "cart_info": {}}


def paypal_routes(origin: str) -> dict[str, Response]:
    records = [paypal_record(t) for t in listed(PAYPAL, "oldest")]
    pages = chunks(records)

    def url(page: int) -> str:
        return f"{origin}{PAYPAL_PATH}?{PAYPAL_QUERY}&page_size={PER_PAGE}&page={page}"

    def link(page: int, rel: str) -> dict[str, str]:
        return {"href": url(page), "rel": rel, "method": "GET"}

    routes: dict[str, Response] = {}
    for page in range(1, len(pages) + 3):  # and two pages past the last
        links = [link(page, "self"), link(len(pages), "last")]
        links[1:1] = [link(page + 1, "next")] if page < len(pages) else []
        held = pages[page - 1] if page <= len(pages) else []
        doc = {"transaction_details": held, "account_number": "XZXSPECPDZHZU", "page": page}
        doc |= {"total_items": len(records), "total_pages": len(pages), "links": links}
        routes[url(page).removeprefix(origin)] = (encode(doc), {})
    return routes


PAYPAL = Api(
    name="paypal",
    docs=(
        "https://developer.paypal.com/docs/api/transaction-search/v1/",
        "https://github.com/paypal/paypal-rest-api-specifications/blob/main/openapi/reporting_transactions_v1.json",
    ),
    zone="America/Chicago",
    shows=lambda t: True,
    routes=paypal_routes,
    conf=f"""
# PayPal transaction search: page numbers and a total; the balance moves by the amount plus
# the fee (negative, and absent without one); P (pending) and D (denied) are left out.
url = {ORIGIN}{PAYPAL_PATH}?{PAYPAL_QUERY}&page_size={PER_PAGE}&page={{page}}
paging = page
page_end = empty
page_path = page
records_path = transaction_details
total_path = total_items
date_field = transaction_info.transaction_initiation_date
date_form = timestamp
time_zone = America/Chicago
amount_field = transaction_info.transaction_amount.value + transaction_info.fee_amount.value?
skip_field = transaction_info.transaction_status
skip_values = P, D
currency_field = transaction_info.transaction_amount.currency_code
currency = USD
category_field = transaction_info.transaction_event_code
counterparty_field = payer_info.payer_name.alternate_full_name
""",
    token="Bearer A21AAFEpH4PsADbl-loopback",
)


# --- Shopify Payments: balance transactions -------------------------------------------------
# https://shopify.dev/docs/api/admin-rest/2024-04/resources/transactions : GET
#   /admin/api/2024-04/shopify_payments/balance/transactions.json, newest first, limit (at
#   most 250), paged "by using links that are provided in the response header"; the resource:
#   id, type (charge | refund | dispute | reserve | adjustment | credit | debit | payout | …),
#   payout_id, payout_status, currency, amount / fee / net as decimal strings, source_*,
#   processed_at. Its example has amount "102.53", fee "3.07" and net "102.53", which do not
#   agree; the balance moves by net = amount - fee.
# Link header and page_info: https://shopify.dev/docs/api/usage/pagination-rest . Auth: the
#   X-Shopify-Access-Token header. processed_at carries the shop's offset (-04:00 for a New
#   York shop in April) as REST Admin times do; the resource's example shows Z.
# A declined charge makes no balance transaction; payout_status "pending" means not yet paid
#   out, still in the balance: nothing is left out.
SHOPIFY_PATH = "/admin/api/2024-04/shopify_payments/balance/transactions.json"
SHOPIFY_TYPE = {"Sales": "charge", "Refunds": "refund"}  # other spend: debit


def shopify_record(t: Txn) -> dict[str, Any]:
    kind, paid = SHOPIFY_TYPE.get(t.category, "debit"), t.at < datetime(2024, 4, 3, tzinfo=UTC)
    return {
        "id": 6_001_000 + t.n,
        "type": kind,
        "test": False,
        "payout_id": 623_721_858 if paid else None,
        "payout_status": "paid" if paid else "pending",
        "currency": "USD",
        "amount": f"{t.amount + t.fee:.2f}",
        "fee": f"{t.fee:.2f}",
        "net": f"{t.amount:.2f}",
        "source_type": "adjustment" if kind == "debit" else kind,
        "processed_at": local(t, SHOPIFY.zone).isoformat(),
    }


def shopify_routes(origin: str) -> dict[str, Response]:
    pages = chunks([shopify_record(t) for t in listed(SHOPIFY)])

    def url(k: int) -> str:
        cursor = json.dumps({"last_id": pages[k - 1][-1]["id"], "direction": "next"}) if k else ""
        info = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
        return f"{SHOPIFY_PATH}?limit={PER_PAGE}" + (f"&page_info={info}" if k else "")

    routes: dict[str, Response] = {}
    for k, page in enumerate(pages):
        links = [f'<{origin}{url(k - 1)}>; rel="previous"'] if k else []
        links += [f'<{origin}{url(k + 1)}>; rel="next"'] if k < len(pages) - 1 else []
        routes[url(k)] = (
            encode({"transactions": page}),
            {"Link": ", ".join(links)} if links else {},
        )
    return routes


SHOPIFY = Api(
    name="shopify",
    docs=(
        "https://shopify.dev/docs/api/admin-rest/2024-04/resources/transactions",
        "https://shopify.dev/docs/api/usage/pagination-rest",
    ),
    zone="America/New_York",
    shows=lambda t: t.state == "posted" and not t.foreign,
    routes=shopify_routes,
    conf=f"""
# Shopify Payments: the Link header; net = amount - fee; the shop's offset on every time.
url = {ORIGIN}{SHOPIFY_PATH}?limit={PER_PAGE}
paging = link
records_path = transactions
total_path = none
date_field = processed_at
date_form = timestamp
time_zone = America/New_York
amount_field = net
category_field = type
counterparty_field = none
auth_header = X-Shopify-Access-Token
""",
    token="shpat_loopback0000000000000000000000",
    auth_header="X-Shopify-Access-Token",
)


# --- Ramp: list transactions ----------------------------------------------------------------
# Paging: https://docs.ramp.com/developer-api/v1/pagination ("page": {"next": the next page's
#   full URL, carrying the `start` cursor}, null after the last; page_size).
# Conventions: https://docs.ramp.com/developer-api/v1/conventions (ISO 8601 times, "UTC is
#   assumed if no timezone offset is specified").
# The record (GET /developer/v1/transactions, a bearer token): Ramp's reference example was
#   not at hand; this follows a captured transaction in Pipedream's Ramp component
#   (@pipedream/ramp 0.2.1, sources/new-transaction-created/test-event.mjs): "amount": 135, a
#   number, positive for a card purchase (money out); currency_code; original_transaction_
#   amount {amount in cents, currency_code}; merchant_name; sk_category_name; state CLEARED
#   (or PENDING, DECLINED, ERROR); user_transaction_time "2024-07-03T20:40:05+00:00".
RAMP_PATH = "/developer/v1/transactions"
RAMP_STATE = {"posted": "CLEARED", "pending": "PENDING", "void": "DECLINED"}


def ramp_record(t: Txn) -> dict[str, Any]:
    return {
        "id": ident("ramp", t),
        "amount": -t.amount,  # positive = money out
        "currency_code": "USD",
        "original_transaction_amount": {"amount": cents(-t.amount), "currency_code": "USD"},
        "merchant_name": t.counterparty or "Stripe Payments",
        "merchant_category_code": None,
        "sk_category_name": t.category,
        "state": RAMP_STATE[t.state],
        "user_transaction_time": t.at.isoformat(),
        "settlement_date": t.at.isoformat() if t.state == "posted" else None,
        "card_holder": {"first_name": "Dana", "department_name": "Operations"},
    }


def ramp_routes(origin: str) -> dict[str, Response]:
    pages = chunks([ramp_record(t) for t in listed(RAMP)])

    def url(k: int) -> str:
        start = f"&start={pages[k - 1][-1]['id']}" if k else ""
        return f"{RAMP_PATH}?page_size={PER_PAGE}{start}"

    routes: dict[str, Response] = {}
    for k, page in enumerate(pages):
        following = origin + url(k + 1) if k < len(pages) - 1 else None
        routes[url(k)] = (encode({"data": page, "page": {"next": following}}), {})
    return routes


RAMP = Api(
    name="ramp",
    docs=(
        "https://docs.ramp.com/developer-api/v1/pagination",
        "https://docs.ramp.com/developer-api/v1/conventions",
        "https://app.unpkg.com/@pipedream/ramp@0.2.1/files/sources/new-transaction-created/test-event.mjs",
    ),
    zone="America/Denver",
    shows=lambda t: not t.foreign,
    routes=ramp_routes,
    conf=f"""
# Ramp: the next page's URL in page.next (null at the end); positive amounts are money out.
url = {ORIGIN}{RAMP_PATH}?page_size={PER_PAGE}
paging = next_url
next_path = page.next
records_path = data
total_path = none
date_field = user_transaction_time
date_form = timestamp
time_zone = America/Denver
amount_field = amount
amount_form = number
sign = inverted
skip_field = state
skip_values = PENDING, DECLINED, ERROR
category_field = sk_category_name
counterparty_field = merchant_name
""",
    token="Bearer ramp_tok_loopback",
)

APIS = [STRIPE, PLAID, MERCURY, OPEN_BANKING, XERO, PAYPAL, SHOPIFY, RAMP]


# --- the server -----------------------------------------------------------------------------


class VendorServer(RouteServer):
    """`RouteServer` for one `Api`: the method (a POST-only API, `Api.post`, answers a GET with
    405 and pages by the request body), then its auth header and any other it requires (401
    without them), then its pages."""

    def __init__(self, api: Api) -> None:
        super().__init__({})
        self.api = api
        self.routes = {target(url): page for url, page in api.routes(self.origin).items()}
        self.bodies: list[dict[str, Any]] = []  # the POST bodies received
        self.RequestHandlerClass = _VendorHandler  # RouteServer sets its own


class _VendorHandler(PageHandler):
    server: VendorServer

    def do_GET(self) -> None:
        self._answer(None)

    def do_POST(self) -> None:
        self._answer(self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20)))

    def _answer(self, posted: bytes | None) -> None:
        server, api, asked = self.server, self.server.api, target(self.path)
        with server.lock:
            server.asked.append(asked if posted is None else f"POST {asked}")
        required = {api.auth_header: api.token, **api.headers}
        wrong = [name for name, value in required.items() if self.headers.get(name) != value]
        if (api.post is None) != (posted is None):  # routing comes before authentication
            allow = {"Allow": "POST" if api.post else "GET"}
            self.send(405, encode({"error": "method not allowed"}), headers=allow)
        elif wrong:
            self.send(401, encode({"error": f"missing or wrong header: {wrong[0]}"}))
        elif api.post is not None and posted is not None:
            try:
                doc = json.loads(posted)
            except ValueError:
                self.send(400, encode({"error_code": "INVALID_BODY"}))
                return
            with server.lock:
                server.bodies.append(doc)
            self.send(*api.post(doc))
        elif (found := server.routes.get(asked)) is None:
            self.send(404, encode({"error": "not found"}))
        else:
            self.send(200, found[0], headers=found[1])


# The `vendor_cli` fixture (conftest.py): (api, conf=None, *flags) -> (the CLI run, the server)
VendorCli = Callable[..., tuple[Any, VendorServer]]


@contextmanager
def serve(api: Api) -> Iterator[VendorServer]:
    """Serve ``api`` on a free loopback port for the duration of the block."""
    with serving(VendorServer(api)) as server:
        yield cast(VendorServer, server)
