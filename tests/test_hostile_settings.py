"""Hostile settings and events, second round (issue 17, classes 3 and 7).

A URL template is checked whole before any request, the same way from the flag, the
environment and sites.conf: only ``{page}`` as a field, a host within DNS's lengths, a port from
1 to 65535, no whitespace or control character anywhere. A Lambda event is anyone's input: its
keys and values are quoted in messages as short, safe excerpts, and every value that does not
convert is a ConfigError naming the field.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import handler
from benchtest import ConfigError, load_settings
from benchtest.text import for_terminal
from tests.conftest import CliRun
from tests.hostile_server import RawServer, silent
from tests.support import make_pages, record

PAGES = make_pages([record()], per_page=1)
BRACES = "only '{page}' may be in braces"
PORT = "the port must be a number from 1 to 65535"

# (template, the reason in the message); HOST is the hostile server's host:port.
TEMPLATES = [
    ("http://HOST/{page.__class__}", BRACES),
    ("http://HOST/{page}/{page!r}", BRACES),
    ("http://HOST/{page:>999999999}", BRACES),
    ("http://HOST/{page[0]}", BRACES),
    ("http://HOST/{}/{page}", BRACES),
    ("http://HOST/{page}}", "unbalanced braces"),
    ("http://127.0.0.1:99999/{page}", PORT),
    ("http://127.0.0.1:http/{page}", PORT),
    ("http://127.0.0.1:0/{page}", PORT),
    ("http://127.0.0.1:" + "9" * 5_000 + "/{page}", PORT),
    ("http:///{page}", "no host"),
    ("http://user:pw@/{page}", "no host"),
    ("http://{page}.example/x", "braces in the host or port"),
    ("http://" + "a" * 64 + ".example/{page}", "a host name label is empty, over 63 characters"),
    ("http://a..example/{page}", "a host name label is empty, over 63 characters"),
    ("http://" + ("a" * 60 + ".") * 5 + "example/{page}", "host name over 253 characters"),
    ("http://u:pw@[::1/{page}", "the host in brackets is not an IPv6 address"),
    ("http://HOST/a b/{page}", "whitespace or a control character at position {}"),
    ("http://HOST/{page}\x1b[2J", "whitespace or a control character at position {}"),
    ("http://HOST/{page}\u202e.json", "whitespace or a control character at position {}"),
    ("http://HOST/{page}.json\n?token=x", "whitespace or a control character at position {}"),
]


@pytest.fixture
def server() -> Iterator[RawServer]:
    """A server that must never be asked: the template is refused before any request."""
    with RawServer(PAGES, 1, silent) as running:
        yield running
    assert running.requests == []


def given(template: str, server: RawServer) -> str:
    return template.replace("HOST", f"127.0.0.1:{server.port}")


@pytest.mark.parametrize(("template", "reason"), TEMPLATES)
@pytest.mark.parametrize("origin", ["option", "BENCH_API_URL", "config file [default]"])
def test_a_bad_url_template_exits_2_naming_the_setting_before_any_request(
    cli: Callable[..., CliRun],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    server: RawServer,
    template: str,
    reason: str,
    origin: str,
) -> None:
    url = given(template, server)
    if reason.endswith("{}"):  # the position of the first offending character, from 1
        reason = reason.format(1 + min(url.find(c) % len(url) for c in " \x1b\u202e\n"))
    if origin == "option":
        run = cli("--url", url)
    elif origin == "BENCH_API_URL":
        monkeypatch.setenv("BENCH_API_URL", url)
        run = cli()
    else:  # a new line in the value is an indented continuation line, as INI writes it
        (tmp_path / "sites.conf").write_text(
            "[default]\nurl = " + url.replace("\n", "\n  ") + "\n", encoding="utf-8"
        )
        run = cli()
    assert (run.code, run.out) == (2, "")
    assert len(run.err) == 1
    assert run.err[0].startswith(f"benchtest: error: {origin}: url: {reason}"), run.err
    assert for_terminal(run.err[0]) == run.err[0]  # nothing raw: escape, bidi, new line
    assert "pw" not in run.err[0]
    assert len(run.err[0]) < 400  # 5,000 digits of port quoted short


@pytest.mark.parametrize(
    "url",
    [
        "http://" + "a" * 63 + ".example/{page}",
        "http://" + ("a" * 62 + ".") * 4 + "b/{page}",  # 253 characters
        "http://" + ("a" * 62 + ".") * 4 + "b./{page}",  # and the root's dot
        "http://127.0.0.1:65535/{page}",
        "http://[::1]:1/{page}",
        "https://user:pw@a.example/v1/{page}.json?since={page}&q=%20",
        "https://a.example/transactions/",
    ],
)
def test_templates_at_the_limits_are_accepted(url: str) -> None:
    assert load_settings(overrides={"url": url}, env={}).fetch.url.startswith(url.rstrip("/"))


# --- class 7: events ---------------------------------------------------------------------

BIG = 100_000


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BENCH_API_URL", "REPORT_BUCKET", "AWS_LAMBDA_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"k" * BIG: True}, r"event option 'k{59}…' is not allowed; an event may set only "),
        ({"active_days_only": "y" * BIG}, r"option 'active_days_only' must be .*, got 'y{59}…'$"),
        ({"active_days_only": ["y"] * BIG}, r"must be true or false, got a value of type list$"),
        ({"active_days_only": 10**5_000}, r"must be true or false, got a value of type int$"),
        ({"exclude_duplicates": {"\x1b": 1}}, r"must be true or false, got a value of type dict$"),
        (
            {"scheduled_time": "0001-01-01T00:00:00+14:00"},
            r"^event 'scheduled_time' is out of range in UTC: '0001-01-01T00:00:00\+14:00'$",
        ),
        (
            {"scheduled_time": "9999-12-31T23:59:59-14:00"},
            r"^event 'scheduled_time' is out of range in UTC: '9999-12-31T23:59:59-14:00'$",
        ),
        (
            {"scheduled_time": "2" * BIG},
            r"^event 'scheduled_time' is not an ISO 8601 time: '2{59}…'$",
        ),
        ({"scheduled_time": ["x"] * BIG}, r"must be an ISO 8601 string, got a value of type list$"),
        (
            {"scheduled_time": "2026-01-01T00:00:00Z", "execution_id": "\x1b" * BIG},
            r"^event 'execution_id' is not a Scheduler execution id: '(\\x1b){59}…'$",
        ),
        (
            {"time": "<aws.scheduler." + "\u202e" * BIG, "source": "aws.events"},
            r"^event 'time' is '<aws\.scheduler\.(\\u202e){44}…': EventBridge Scheduler ",
        ),
    ],
    ids=[
        "100-KB-key",
        "100-KB-value",
        "100-K-list",
        "5000-digit-int",
        "dict-with-escape",
        "year-1-at-UTC+14",
        "year-9999-at-UTC-14",
        "100-KB-time",
        "list-time",
        "100-KB-execution-id",
        "100-KB-keyword",
    ],
)
def test_an_event_is_quoted_short_and_safe_in_the_error_and_the_summary(
    caplog: pytest.LogCaptureFixture, event: dict[str, Any], message: str
) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(ConfigError) as caught:
        handler.handler(event, None)
    error = str(caught.value)
    assert re.search(message, error), error
    assert len(error) < 500
    assert for_terminal(error) == error
    [line] = [r for r in caplog.records if r.name == "benchtest.run"]
    summary = json.loads(line.getMessage())
    assert summary["error"] == f"ConfigError: {error}"
    assert len(line.getMessage()) < 1_000
