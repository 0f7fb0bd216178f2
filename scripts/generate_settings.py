"""Regenerate what is derived from the settings' one declaration (`benchtest.settings`): the
table in docs/settings.md and the Terraform variables in settings.tf.

python scripts/generate_settings.py          # rewrite both
python scripts/generate_settings.py --check  # exit 1 if either is stale (tests/test_config.py)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchtest.settings import DECLARED, Declared, show  # noqa: E402  (after the path set-up)

DOC = ROOT / "docs" / "settings.md"
TERRAFORM = ROOT / "settings.tf"
START = "<!-- settings-table:start (python scripts/generate_settings.py) -->"
END = "<!-- settings-table:end -->"
DASH = "\N{EN DASH}"

# Settings with a Terraform variable of their own: (variable, its default for the function,
# description). The rest are keys of var.settings.
OWN_VARIABLES = {
    "url": ("api_url", None, ""),
    "auth_header": ("auth_header_name", None, ""),
    "assert_balance": ("assert_balances", None, ""),
    "concurrency": (
        "fetch_concurrency",
        16,
        "pages fetched at once. 16: a 1M-transaction ledger of 100 per page at 100 ms a page is "
        "~63 s of waiting.",
    ),
    "timeout": ("fetch_timeout", 10, "seconds allowed for one page request."),
    "retries": ("fetch_retries", 4, "retries of a failed page request."),
}
# Variables the function reads that are not settings, set from other Terraform variables.
OTHER_ENV = ["REPORT_BUCKET", "REPORT_PREFIX", "REPORT_KMS_KEY_ID", "REPORT_KEEP_PAGES"]
OTHER_ENV += ["BENCH_AUTH_PARAMETER"]


def markdown_table() -> str:
    """One row per setting: name, flag, environment variable, default, help and bounds."""
    lines = [
        "| setting | flag | environment | default | |",
        "|---|---|---|---|---|",
    ]
    for s in DECLARED:
        flag = s.flag if s.metavar is None else f"{s.flag} {s.metavar}"
        default = f"`{s.default}`" if s.kind is str else show(s.default)
        text = s.help if s.bounds is None else f"{s.help} ({DASH.join(map(show, s.bounds))})"
        text += "" if s.choices is None else f" ({', '.join(s.choices)})"
        lines.append(f"| {s.name} | `{flag}` | `{s.env}` | {default} | {text} |")
    return "\n".join(lines) + "\n"


def with_table(doc: str) -> str:
    """``doc`` with the text between the markers replaced by `markdown_table`."""
    head, start, rest = doc.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{DOC.name}: markers {START!r} and {END!r} not found")
    return f"{head}{START}\n{markdown_table()}{END}{tail}"


def _hcl(value: object) -> str:
    return json.dumps(value)


def _bounded(setting: Declared) -> str:
    variable, default, description = OWN_VARIABLES[setting.name]
    assert setting.bounds is not None
    low, high = map(show, setting.bounds)
    condition = f"var.{variable} >= {low} && var.{variable} <= {high}"
    kind = "a number"
    if setting.kind is int:
        condition += f" && floor(var.{variable}) == var.{variable}"
        kind = "a whole number"
    return f"""variable "{variable}" {{
  description = {_hcl(f"{setting.env}: {description}")}
  type        = number
  default     = {default}

  validation {{
    condition     = {condition}
    error_message = {_hcl(f"{variable} must be {kind} between {low} and {high}.")}
  }}
}}
"""


def _variable(name: str, description: str, condition: str, error: str) -> str:
    return f"""variable "{name}" {{
  description = {_hcl(description)}
  type        = map(string)
  default     = {{}}

  validation {{
    condition     = {condition}
    error_message = {_hcl(error)}
  }}
}}
"""


def terraform() -> str:
    """settings.tf: the settings map, the fetch variables and what environment_variables may
    not set, from the declarations."""
    names = [s.name for s in DECLARED if s.name not in OWN_VARIABLES]
    for s in DECLARED:  # main.tf names each key's variable BENCH_<NAME>
        assert s.name in OWN_VARIABLES or s.env == f"BENCH_{s.name.upper()}", s.name
    own = [f"{name} ({variable})" for name, (variable, _, _) in OWN_VARIABLES.items()]
    taken = [s.env for s in DECLARED if s.name in OWN_VARIABLES or s.group == "source"]
    taken += OTHER_ENV
    settings = _variable(
        "settings",
        "benchtest settings by name (docs/settings.md), values as in sites.conf, e.g. "
        '{ paging = "offset", records_path = "data.items", deadline = "600" }. Each becomes '
        "BENCH_<NAME>; the function checks them at start. Settings with a variable of their "
        f"own are not keys here: {', '.join(own)}.",
        f"alltrue([for name in keys(var.settings) : contains({_hcl(names)}, name)])",
        "settings keys must be benchtest settings without a variable of their own: "
        + ", ".join(names)
        + ".",
    )
    environment = _variable(
        "environment_variables",
        "Further environment variables for the function (e.g. BENCH_DEADLINE). They may not "
        "set what other variables set.",
        f"length(setintersection(keys(var.environment_variables), {_hcl(taken)})) == 0",
        "environment_variables may not set "
        + ", ".join(taken)
        + ": use their own variables (settings for the source settings).",
    )
    bounded = [_bounded(s) for s in DECLARED if s.bounds is not None and s.name in OWN_VARIABLES]
    header = (
        "# Generated from benchtest/settings.py by `python scripts/generate_settings.py`: do not\n"
        "# edit (tests/test_config.py fails when it is stale).\n"
    )
    return "\n".join([header, settings, *bounded, environment])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a change")
    args = parser.parse_args()
    stale = []
    for path, wanted in [
        (DOC, with_table(DOC.read_text(encoding="utf-8"))),
        (TERRAFORM, terraform()),
    ]:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if wanted != current:
            stale.append(path.name)
            if not args.check:
                path.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        print(f"{', '.join(stale)}: stale; run python scripts/generate_settings.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
