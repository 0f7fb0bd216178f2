"""A stand-in for AWS Lambda's Runtime API on loopback, and the real runtime client run against it.

Lambda's Python runtime is `awslambdaric` (from PyPI) polling the Runtime API, documented as
version 2018-06-01: `GET /runtime/invocation/next` long-polls for an event, whose headers carry
the request id, the deadline (epoch milliseconds), the function ARN and the trace id; the result
goes to `POST /runtime/invocation/{id}/response` or `.../{id}/error`, and a failed import to
`POST /runtime/init/error`. `RuntimeAPI` serves that API on 127.0.0.1 from a queue of events and
records what comes back, when, and what the function had logged by then (its output goes to a
file, so "logged before the error was posted" is read at the moment the POST arrives, not
guessed from timestamps). `launch` starts `python -m awslambdaric handler.handler` against it
with the environment Lambda sets, in a Python 3.12 venv that `runtime_venv` makes once per
requirements file (tests/requirements-runtime.txt: the client and the boto3 the real runtime
provides).

Used by tests/test_runtime.py and benchmarks/cold_start.py; not part of the product.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PREFIX = "/2018-06-01/runtime"
REQUIREMENTS = Path(__file__).with_name("requirements-runtime.txt")
FUNCTION_NAME = "benchtest-runtime-test"
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}"


@dataclass(frozen=True)
class Outcome:
    """What the function posted for one invocation (or for init)."""

    request_id: str
    kind: str  # "response", "error" or "init_error"
    body: bytes
    headers: dict[str, str]
    monotonic: float
    wall: float
    logs: str  # the function's output as it stood when this POST arrived

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Invocation:
    request_id: str
    body: bytes
    timeout: float  # seconds the invocation has, counted from its delivery
    deadline_ms: int = 0
    delivered: float = 0.0  # time.monotonic() when /next handed it out


@dataclass
class RuntimeAPI:
    """The Runtime API on 127.0.0.1: queue events, read back responses, errors and timings."""

    logs: Callable[[], str] = lambda: ""
    next_calls: list[float] = field(default_factory=list)  # time.monotonic() of every /next
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    delivered: dict[str, Invocation] = field(default_factory=dict)
    _pending: queue.Queue[Invocation] = field(default_factory=queue.Queue)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """host:port, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def invoke(self, event: Any, timeout: float = 60.0) -> str:
        """Queue an event; the deadline is ``timeout`` seconds after /next delivers it."""
        request_id = str(uuid.uuid4())
        self._pending.put(Invocation(request_id, json.dumps(event).encode(), timeout))
        return request_id

    def wait(self, request_id: str, timeout: float) -> Outcome:
        """The response or error posted for ``request_id``; AssertionError after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: request_id in self.outcomes, timeout):
                raise AssertionError(f"no result for {request_id} within {timeout} s")
            return self.outcomes[request_id]

    def wait_next(self, count: int = 1, timeout: float = 30.0) -> float:
        """The monotonic time of the ``count``-th /next; AssertionError after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.next_calls) >= count, timeout):
                raise AssertionError(f"fewer than {count} /next calls within {timeout} s")
            return self.next_calls[count - 1]

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    # -- called from the server's threads ------------------------------------------------------

    def _next(self) -> Invocation | None:
        with self._changed:
            self.next_calls.append(time.monotonic())
            self._changed.notify_all()
        while not self._closing.is_set():
            try:
                invocation = self._pending.get(timeout=0.1)
            except queue.Empty:
                continue
            invocation.delivered = time.monotonic()
            invocation.deadline_ms = int((time.time() + invocation.timeout) * 1000)
            self.delivered[invocation.request_id] = invocation
            return invocation
        return None

    def _record(self, outcome: Outcome) -> None:
        with self._changed:
            self.outcomes[outcome.request_id] = outcome
            self._changed.notify_all()


def _handler_for(api: RuntimeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1: the client keeps one connection open, and long-polls /next on it.
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            # The runtime killed mid-request leaves nothing to answer.
            with contextlib.suppress(ConnectionError):
                super().handle()

        def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
                return
            invocation = api._next()
            if invocation is None:  # shutting down
                self._reply(503, {"errorType": "ShuttingDown", "errorMessage": ""})
                return
            self._reply(
                200,
                invocation.body,
                {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                    "Lambda-Runtime-Trace-Id": (
                        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
                    ),
                },
            )

        def do_POST(self) -> None:
            body = self._body()
            parts = self.path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                request_id, kind = "init", "init_error"
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                request_id, kind = parts[1], parts[2]
                if request_id not in api.delivered:
                    self._reply(400, {"errorType": "InvalidRequestID", "errorMessage": request_id})
                    return
            else:
                self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
                return
            api._record(
                Outcome(
                    request_id=request_id,
                    kind=kind,
                    body=body,
                    headers=dict(self.headers.items()),
                    monotonic=time.monotonic(),
                    wall=time.time(),
                    logs=api.logs(),
                )
            )
            self._reply(202, {"status": "OK"})

    return Handler


# --------------------------------------------------------------------------------------------
# The runtime: awslambdaric under Python 3.12
# --------------------------------------------------------------------------------------------


def find_python312() -> str | None:
    """A CPython 3.12 (Lambda's python3.12 runtime version) on this machine, if any."""
    candidates = [shutil.which("python3.12")]
    candidates += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    candidates += ["/usr/bin/python3.12", "/usr/local/bin/python3.12"]
    for candidate in filter(None, candidates):
        try:
            found = subprocess.run(
                [candidate, "-I", "-c", "import sys; print(sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if found.returncode == 0 and found.stdout.strip() == "(3, 12)":
            return candidate
    return None


class RuntimeUnavailable(Exception):
    """No Python 3.12, or awslambdaric could not be installed (the message says which)."""


def runtime_venv(python: str, cache: Path) -> Path:
    """A venv of ``python`` with tests/requirements-runtime.txt installed; its interpreter.

    Made once under ``cache`` and reused while the requirements file is unchanged.
    """
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + python.encode()).hexdigest()[:16]
    venv = cache / f"runtime-{key}"
    interpreter = venv / "bin" / "python"
    if (venv / "ready").exists():
        return interpreter
    shutil.rmtree(venv, ignore_errors=True)
    steps = [
        [python, "-m", "venv", str(venv)],
        [str(interpreter), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(REQUIREMENTS)],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise RuntimeUnavailable(f"{' '.join(step[:4])} failed: {last}")
    (venv / "ready").write_text("ok\n")
    return interpreter


def lambda_env(task: Path, api: RuntimeAPI, **extra: str) -> dict[str, str]:
    """The environment Lambda's python3.12 runtime gives a function (no AWS credentials)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": str(task),
        # /var/task is read-only on Lambda, so nothing compiled at init is ever kept; chmod
        # alone does not stop root from writing __pycache__ there, this does.
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task),
        "_HANDLER": "handler.handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **extra,
    }


@dataclass
class Function:
    """A running awslambdaric process and its Runtime API."""

    api: RuntimeAPI
    process: subprocess.Popen[bytes]
    log: Path
    started: float  # time.monotonic() just before the process was spawned

    def init_seconds(self, timeout: float = 30.0) -> float:
        """Process start to the runtime's first /next: Lambda's init phase."""
        return self.api.wait_next(1, timeout) - self.started

    def cpu_seconds(self) -> float:
        """CPU time the process has used (user + system): less load-dependent than wall time."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def records(self) -> list[dict[str, Any]]:
        """The JSON lines the function has written so far (other lines are skipped)."""
        return json_lines(self.log.read_text(encoding="utf-8", errors="replace"))


def json_lines(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


@contextmanager
def launch(interpreter: Path, task: Path, log: Path, **env: str) -> Iterator[Function]:
    """Run ``interpreter -m awslambdaric handler.handler`` in ``task`` until the block ends."""
    api = RuntimeAPI(logs=lambda: log.read_text(encoding="utf-8", errors="replace"))
    try:
        with log.open("wb") as out:
            started = time.monotonic()
            process = subprocess.Popen(
                [str(interpreter), "-m", "awslambdaric", "handler.handler"],
                cwd=task,
                env=lambda_env(task, api, **env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield Function(api, process, log, started)
        finally:
            process.kill()
            process.wait(timeout=10)
    finally:
        api.close()


def make_readonly(folder: Path) -> None:
    """chmod -R a-w, as Lambda's /var/task is (root ignores it: see PYTHONDONTWRITEBYTECODE)."""
    for root, dirs, files in os.walk(folder):
        for name in [*files, *dirs]:
            path = Path(root, name)
            path.chmod(path.stat().st_mode & ~0o222)
    folder.chmod(folder.stat().st_mode & ~0o222)
