"""Peak RSS and time of the worst hostile cases of issues 17 and 26, each in a fresh process.

    python benchmarks/hostile_rss.py [CLASS ...]     # classes: protocol numbers link url
                                                     #          categories retries event output
                                                     #          network memory edges

Each case runs ``python -m benchtest`` (or the Lambda handler) in its own process against a
loopback server in another process (raw HTTP for the protocol cases), and reports the exit
status, the first stderr line, the number of stderr lines, the peak RSS from wait4() and the
wall time. The server's pages are built in the server's process: built here, they would inflate
the client's figure (Linux carries a parent's RSS high-water mark across fork and exec).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEADLINE = "10"
LEDGER = (
    b'{"totalCount":1,"page":1,"transactions":'
    b'[{"Date":"2024-01-02","Ledger":"","Amount":"-1.00","Company":"A"}]}'
)
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def endless(head: bytes, unit: bytes) -> Callable[[socket.socket, Any], None]:
    def behaviour(conn: socket.socket, server: Any) -> None:
        conn.sendall(head)
        while not server.stopping.is_set():
            conn.sendall(unit)

    return behaviour


def answer(head: bytes) -> Callable[[socket.socket, Any], None]:
    return lambda conn, server: conn.sendall(head)


def link_lines(lines: int) -> Callable[[socket.socket, Any], None]:
    """Link header lines, made in the server's process (megabytes held here would count in the
    client's peak RSS: see above)."""

    def behaviour(conn: socket.socket, server: Any) -> None:
        link = b"Link: " + b"<" * 65_000 + b"\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + link * lines + b"\r\n" + LEDGER)

    return behaviour


# Raw-HTTP cases: name -> (the hostile page's behaviour, extra CLI arguments).
RAW: dict[str, dict[str, tuple[Callable[[socket.socket, Any], None], list[str]]]] = {
    "protocol": {
        "endless chunk-size line": (endless(CHUNKED, b"0" * 65536), []),
        "endless trailer line": (endless(CHUNKED + b"2\r\n[]\r\n0\r\nX: ", b"t" * 65536), []),
        "endless trailers": (endless(CHUNKED + b"2\r\n[]\r\n0\r\n", b"X: t\r\n" * 8192), []),
        "endless status line": (endless(b"HTTP/1.1 200 ", b"O" * 65536), []),
        "endless header line": (endless(b"HTTP/1.1 200 OK\r\nX: ", b"a" * 65536), []),
        "endless headers": (endless(b"HTTP/1.1 200 OK\r\n", b"X: b\r\n" * 8192), []),
        "503, endless chunked body": (
            endless(b"HTTP/1.1 503 No\r\nTransfer-Encoding: chunked\r\n\r\n",
                    b"10000\r\n" + b" " * 65536 + b"\r\n"),
            [],
        ),
        "503, Content-Length 99999999999": (
            endless(b"HTTP/1.1 503 No\r\nContent-Length: 99999999999\r\n\r\n", b" " * 65536),
            [],
        ),
    },
    "numbers": {
        "Retry-After year 10000": (
            answer(b"HTTP/1.1 503 No\r\nRetry-After: Fri, 31 Dec 10000 23:59:59 GMT\r\n"
                   b"Content-Length: 0\r\n\r\n"),
            [],
        ),
        "Retry-After of 60,000 digits": (
            answer(b"HTTP/1.1 503 No\r\nRetry-After: " + b"9" * 60_000 +
                   b"\r\nContent-Length: 0\r\n\r\n"),
            ["--retry-after-cap", "0.5"],
        ),
        "Retry-After 3600, cap 30": (
            answer(b"HTTP/1.1 503 No\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n"), [],
        ),
        "Retry-After Fri, 31 Dec 9999, cap 30": (
            answer(b"HTTP/1.1 503 No\r\nRetry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\n"
                   b"Content-Length: 0\r\n\r\n"),
            [],
        ),
        "Content-Length of 60,000 digits": (
            answer(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 60_000 + b"\r\n\r\n{"),
            [],
        ),
    },
    # paging = link; the body (to the connection's close) is a whole one-record ledger
    "link": {
        f"{lines} Link line(s) of 65,000 '<'": (link_lines(lines), ["--paging", "link"])
        for lines in (1, 99, 100)
    },
    "retries": {
        "dropped connection, 4 retries": (lambda conn, server: None, []),
    },
}  # fmt: skip


def serve_raw(behaviour: Callable[..., None], port: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tests.hostile_server import RawServer
    from tests.support import make_pages, record

    pages = make_pages([record(Company=f"VENDOR {i}") for i in range(12)], per_page=3)
    with RawServer(pages, 1, behaviour) as server:
        port.put(server.port)
        server.stopping.wait()


def serve_company(port: Any) -> None:
    """An https ledger (a CA made here, its PEM's path sent) behind a proxy wanting me:pw."""
    import ssl
    import tempfile

    import trustme

    from benchtest.source import PageServer, serving
    from tests.proxy_server import ProxyServer
    from tests.support import make_pages, record

    ca = trustme.CA()
    pem = os.path.join(tempfile.mkdtemp(), "company-ca.pem")
    ca.cert_pem.write_to_path(pem)
    ledger = PageServer(make_pages([record() for _ in range(12)], per_page=3))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("ledger.example").configure_cert(context)
    ledger.socket = context.wrap_socket(ledger.socket, server_side=True)
    with (
        serving(ledger),
        ProxyServer({"ledger.example:443": ledger.server_address[1]}, "me:pw") as proxy,
    ):
        port.put((proxy.port, pem))
        proxy.stopping.wait()


def serve_ledger(count: int, distinct: int, per_page: int, company: str, port: Any) -> None:
    from tests.ledger_server import LedgerServer

    records = [
        {
            "Date": f"2024-01-{1 + i % 28:02d}",
            "Ledger": f"{i % distinct:08d}".ljust(200, "c"),
            "Amount": "-1.00",
            "Company": f"{company or 'VENDOR '}{i}",
        }
        for i in range(count)
    ]
    pages = {}
    for number, start in enumerate(range(0, count, per_page), 1):
        doc = {
            "page": number,
            "totalCount": count,
            "transactions": records[start : start + per_page],
        }
        pages[number] = json.dumps(doc).encode()
    del records
    server = LedgerServer(pages)
    port.put(server.server_address[1])
    server.serve_forever()


def serve_pages(pages: dict[int, bytes], port: Any) -> None:
    from tests.ledger_server import LedgerServer

    server = LedgerServer(pages)
    port.put(server.server_address[1])
    server.serve_forever()


def edges() -> dict[str, tuple[dict[int, bytes], list[str]]]:
    """Issue 26's numbers, dates and settings at their edges: name -> (pages, CLI arguments)."""

    def page(head: str, record: str = "") -> dict[int, bytes]:
        item = record or '{"Date":"2024-01-02","Ledger":"","Amount":"-1.00","Company":"C"}'
        return {1: f'{{{head}"transactions":[{item}]}}'.encode()}

    quarter = [f"9999-{10 + n // 31}-{1 + n % 28:02d}" for n in range(92)]
    last = ",".join(f'{{"Date":"{d}","Ledger":"","Amount":"-1.00","Company":"C"}}' for d in quarter)
    huge = "9" * 5_000
    return {
        "totalCount of 400 digits (was an OverflowError)": (
            page(f'"page":1,"totalCount":{"9" * 400},'), []),
        "totalCount of 5,000 digits (was a ValidationError traceback)": (
            page(f'"page":1,"totalCount":{huge},'), []),
        "an epoch of 5,000 digits": (
            page('"page":1,', f'{{"t":{huge},"Ledger":"","Amount":"1","Company":""}}'),
            ["--date-field", "t", "--date-form", "epoch_s", "--time-zone", "UTC"]),
        "epoch 253402300800 (10000-01-01)": (
            page('"page":1,', '{"t":253402300800,"Ledger":"","Amount":"1","Company":""}'),
            ["--date-field", "t", "--date-form", "epoch_s", "--time-zone", "UTC"]),
        "9999-10-01 to 9999-12-31, HTML (was a ValueError)": (
            {1: b'{"page":1,"totalCount":92,"transactions":[' + last.encode() + b"]}"},
            ["--format", "html"]),
        "an amount of a million digits and an x (was hours)": (
            page('"page":1,', '{"Date":"2024-01-02","Ledger":"","Amount":"'
                 + "1" * 1_000_000 + 'x","Company":""}'), []),
        "records_path of 1,000 keys (was a RecursionError)": (
            page('"page":1,'), ["--records-path", ".".join(["a"] * 1_000)]),
        "total_path overlapping, 120,000 characters (was quoted whole)": (
            page('"page":1,'), ["--total-path", "transactions." + "x" * 120_000]),
        "--assert-balance with U+2212 (was refused)": (
            page('"page":1,'), ["--assert-balance", "2024-01-02=\N{MINUS SIGN}1.00"]),
        "-o of a 250-byte name (failed after the fetch)": (
            page('"page":1,'), ["-o", f"/tmp/{'r' * 245}.json"]),
    }  # fmt: skip


def serve_duplicates(count: int, groups: int, port: Any) -> None:
    """``count`` transactions in ``groups`` groups of identical ones, shuffled, 1,000 a page."""
    import random

    from tests.ledger_server import LedgerServer
    from tests.test_hostile_memory import pages_of

    order = list(range(count))
    random.Random(26).shuffle(order)
    records = [
        {"Date": f"2024-01-{1 + n % groups % 28:02d}", "Ledger": f"L{n % groups % 50}",
         "Amount": f"-{n % groups % 997}.{n % 100:02d}", "Company": f"VENDOR {n % groups}"}
        for n in order
    ]  # fmt: skip
    server = LedgerServer(pages_of(records, 1_000))
    port.put(server.server_address[1])
    server.serve_forever()


def serve_endless(port: Any) -> None:
    """A cursor API that never ends: 3.9 KB cursors (tests/test_hostile_memory.py)."""
    from benchtest.source import PageServer
    from tests.test_hostile_memory import _Endless

    server = PageServer({}, _Endless)
    port.put(server.server_address[1])
    server.serve_forever()


def measure(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[int, list[str], float, float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BENCH_")},
             "PYTHONPATH": ROOT, **(env or {})},
    )  # fmt: skip
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    return os.waitstatus_to_exitcode(status), err.splitlines(), usage.ru_maxrss / 1024, seconds


def row(kind: str, name: str, result: tuple[int, list[str], float, float]) -> None:
    code, err, rss, seconds = result
    first = (err[-1] if err else "")[:150].replace("|", "\\|")
    print(f"| {kind} | {name} | {code} | {len(err)} | {rss:.0f} | {seconds:.1f} | `{first}` |")


@contextmanager
def server(target: Callable[..., None], *args: Any) -> Iterator[str]:
    """Run ``target(*args, port_queue)`` in its own process; yield the page URL template."""
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.Process(target=target, args=(*args, queue), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{queue.get(timeout=120)}/transactions/{{page}}.json"
    finally:
        process.terminate()
        process.join()


def cli(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "benchtest", "--url", url, "--deadline", DEADLINE,
            "--backoff", "0.01", "--format", "json", *args]  # fmt: skip


def main(kinds: list[str]) -> None:
    print("| class | case | exit | stderr lines | peak RSS MB | s | last stderr line |")
    print("|---|---|---|---|---|---|---|")
    row("baseline", "bundled sample", measure([sys.executable, "-m", "benchtest", "-q"]))
    for kind, cases in RAW.items():
        if kinds and kind not in kinds:
            continue
        for name, (behaviour, args) in cases.items():
            with server(serve_raw, behaviour) as url:
                link = "--paging" in args  # page 1's URL, not a template
                row(kind, name, measure(cli(url.format(page=1) if link else url, *args)))
    if not kinds or "edges" in kinds:
        for name, (pages, args) in edges().items():
            with server(serve_pages, pages) as url:
                command = cli(url, *args)
                if "-o" in args:  # the file's extension names its format
                    del command[command.index("--format") : command.index("--format") + 2]
                row("edges", name, measure(command))
                if "-o" in args and os.path.exists(args[-1]):
                    os.unlink(args[-1])
    if not kinds or "url" in kinds:
        conf = os.path.join("/tmp", f"benchtest-sites-{os.getpid()}.conf")
        long_url = "http://127.0.0.1:1/" + "a" * 900_000 + "{page}\n  ."  # 900 KB, two lines
        with open(conf, "w") as file:
            file.write(f"[default]\nurl = {long_url}\n")
        for name, args in [
            ("{page:>999999999} (a 1 GB URL)", ["--url", "http://127.0.0.1:1/{page:>999999999}"]),
            ("port of 5,000 digits", ["--url", "http://127.0.0.1:" + "9" * 5_000 + "/{page}"]),
            ("900 KB URL in sites.conf, continued", ["--config", conf]),
        ]:
            row("url", name, measure([sys.executable, "-m", "benchtest", *args]))
        os.unlink(conf)
    if not kinds or "categories" in kinds:
        for name, spec, args in [
            ("200,000 tx, own 200-char category, 1,000 a page", (200_000, 200_000, 1_000, ""), []),
            ("50,000 tx, own category, one page (concurrency 1)", (50_000, 50_000, 50_000, ""),
             ["--concurrency", "1"]),
            ("200,000 tx, 10,000 categories (the bound)", (200_000, 10_000, 1_000, ""), []),
            ("200,000 tx, one category, 1,000 a page", (200_000, 1, 1_000, ""), []),
        ]:  # fmt: skip
            with server(serve_ledger, *spec) as url:
                row("categories", name, measure(cli(url, *args)))
    if not kinds or "output" in kinds:
        hostile = "\x1b\x9b\u202e" * 332  # 996 characters a terminal acts on, in each Company
        for fmt in ("json", "html", "table"):
            with server(serve_ledger, 10_000, 100, 500, hostile) as url:
                name = f"10,000 listed, 996 controls each, {fmt}"
                row("output", name, measure(cli(url, "--format", fmt)))
    if not kinds or "memory" in kinds:
        for concurrency in ("1", "2"):
            with server(serve_ledger, 300_000, 100, 50_000, "") as url:
                name = f"6 pages of 14 MB (50,000 tx each), concurrency {concurrency}"
                row("memory", name, measure(cli(url, "--concurrency", concurrency)))
        for fmt in ("json", "table"):
            with server(serve_duplicates, 210_000, 70_000) as url:
                name = f"210,000 tx in 70,000 duplicate groups, {fmt}"
                row("memory", name, measure(cli(url, "--format", fmt)))
        with server(serve_endless) as url:
            name = "endless cursor API, 3.9 KB cursors, the defaults (300 s, 100,000 pages)"
            link = url.format(page=1)
            row("memory", name, measure(cli(link, "--paging", "cursor", "--deadline", "300")))
    if not kinds or "network" in kinds:
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        process = multiprocessing.Process(target=serve_company, args=(queue,), daemon=True)
        process.start()
        proxy, pem = queue.get(timeout=120)
        api = "https://ledger.example/transactions/{page}.json"
        for name, env in [
            ("https API, proxy with credentials, company CA", {
                "HTTPS_PROXY": f"me:pw@127.0.0.1:{proxy}", "REQUESTS_CA_BUNDLE": pem}),
            ("the same without the company CA", {"HTTPS_PROXY": f"me:pw@127.0.0.1:{proxy}"}),
            ("proxy answers 407 (wrong password)", {
                "HTTPS_PROXY": f"me:wrong@127.0.0.1:{proxy}", "REQUESTS_CA_BUNDLE": pem}),
            ("proxy refuses connections", {"HTTPS_PROXY": "me:pw@127.0.0.1:9"}),
            ("socks5:// proxy (at start)", {"HTTPS_PROXY": "socks5://me:pw@127.0.0.1:1080"}),
            ("unparsable proxy URL (at start)", {"HTTPS_PROXY": "http://me:pw@[::1"}),
            ("REQUESTS_CA_BUNDLE missing (at start)", {"REQUESTS_CA_BUNDLE": "/missing.pem"}),
        ]:  # fmt: skip
            row("network", name, measure(cli(api), env))
        process.terminate()
        process.join()
    if not kinds or "event" in kinds:
        for name, event in [
            ("100 KB key", '{"' + "k" * 100_000 + '": true}'),
            ("1 MB value", '{"active_days_only": "' + "y" * 1_000_000 + '"}'),
            ("year 1 at UTC+14", '{"scheduled_time": "0001-01-01T00:00:00+14:00"}'),
        ]:
            path = os.path.join("/tmp", f"benchtest-event-{os.getpid()}.json")
            with open(path, "w") as file:
                file.write(event)
            result = measure([sys.executable, os.path.join(ROOT, "handler.py"), path])
            os.unlink(path)
            summary = next((line for line in result[1] if "benchtest.run" in line), "")
            row("event", f"{name} (summary line {len(summary):,} chars)", result)


if __name__ == "__main__":
    main(sys.argv[1:])
