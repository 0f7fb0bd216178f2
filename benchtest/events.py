"""What a Lambda invocation asks for: which run it is, and the few options an event may set."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .errors import ConfigError
from .text import quoted

# The options an event may set; everything else comes from the function's environment.
SAFE_OPTIONS = ("active_days_only", "exclude_duplicates")
# A scheduled time may be this far ahead of the clock: a forged future time would otherwise make
# a run "newer" than every real one and hold `latest` (which never moves backward) for good.
MAX_AHEAD = timedelta(minutes=15)
# Fields of a classic EventBridge scheduled-rule event, besides `time`.
_RULE_ENVELOPE = frozenset(
    {"version", "id", "detail-type", "source", "account", "region", "resources", "detail"}
)
# Scheduler's <aws.scheduler.execution-id> (documented example: d32c5kddcf5bb8c3); it is logged.
_EXECUTION_ID = re.compile(r"[A-Za-z0-9-]{1,128}", re.ASCII)
# A context-attribute keyword that reached the function unsubstituted.
_KEYWORD = "<aws.scheduler."


@dataclass(frozen=True)
class Invocation:
    trigger: str  # "schedule" (Scheduler), "rule" (classic EventBridge) or "manual"
    run_time: datetime  # the scheduled time, or now for a manual run (UTC)
    options: dict[str, bool] = field(default_factory=dict)
    execution_id: str | None = None  # set by EventBridge Scheduler only

    @property
    def scheduled(self) -> bool:
        return self.trigger != "manual"


def parse_event(event: object, now: datetime | None = None) -> Invocation:
    """Classify ``event`` and validate its options; raise `ConfigError` on anything else."""
    event = {} if event is None else event
    if not isinstance(event, Mapping):
        raise ConfigError(f"event must be a JSON object, got {type(event).__name__}")
    fields = dict(event)
    for name, value in fields.items():
        if isinstance(value, str) and value.startswith(_KEYWORD):
            raise ConfigError(
                f"event {_shown(name)} is {_shown(value)}: EventBridge Scheduler replaces that "
                "keyword only where the schedule's input holds it as text (not JSON-escaped)"
            )
    execution_id = None
    if "scheduled_time" in fields:
        trigger, run_time = "schedule", _timestamp(fields.pop("scheduled_time"), "scheduled_time")
        if "execution_id" in fields:
            execution_id = _execution_id(fields.pop("execution_id"))
    elif "time" in fields and fields.get("source") == "aws.events":
        trigger, run_time = "rule", _timestamp(fields.pop("time"), "time")
        for name in _RULE_ENVELOPE:
            fields.pop(name, None)
    else:
        trigger, run_time = "manual", now or datetime.now(UTC)
    if run_time > (now or datetime.now(UTC)) + MAX_AHEAD:
        raise ConfigError(f"event scheduled time {run_time.isoformat()} is in the future")
    options = {}
    for name, value in fields.items():
        if name not in SAFE_OPTIONS:
            raise ConfigError(
                f"event option {_shown(name)} is not allowed; an event may set only "
                f"{', '.join(SAFE_OPTIONS)} (the URL and bucket come from the environment)"
            )
        if not isinstance(value, bool):
            raise ConfigError(
                f"event option {_shown(name)} must be true or false, got {_shown(value)}"
            )
        options[name] = value
    return Invocation(trigger, run_time, options, execution_id)


def _execution_id(value: object) -> str:
    if not isinstance(value, str) or not _EXECUTION_ID.fullmatch(value):
        raise ConfigError(f"event 'execution_id' is not a Scheduler execution id: {_shown(value)}")
    return value


def _timestamp(value: object, name: str) -> datetime:
    """An ISO 8601 time with a zone (``2026-11-25T06:00:00Z``), as Scheduler and rules send,
    in UTC."""
    if not isinstance(value, str):
        raise ConfigError(f"event {name!r} must be an ISO 8601 string, got {_shown(value)}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"event {name!r} is not an ISO 8601 time: {_shown(value)}") from exc
    if parsed.tzinfo is None:
        raise ConfigError(f"event {name!r} has no time zone: {_shown(value)}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+14:00 is in the year 0 in UTC
        raise ConfigError(f"event {name!r} is out of range in UTC: {_shown(value)}") from exc


def _shown(value: object) -> str:
    """A short, safe excerpt of an event's key or value: an event is anyone's input, and an
    error message goes to the summary log and the invocation's error."""
    if isinstance(value, str):
        return quoted(value)
    if value is None or isinstance(value, float) or (isinstance(value, int) and abs(value) < 2**63):
        return repr(value)
    return f"a value of type {type(value).__name__}"  # a list or dict of any size, a long int
