"""Regenerate docs/settings.md's table from the declarations in `benchtest.config`.

python scripts/settings_table.py          # rewrite the table between the markers
python scripts/settings_table.py --check  # exit 1 if the table is stale (tests/test_config.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchtest.config import SETTINGS, show  # noqa: E402  (after the path set-up)

DOC = ROOT / "docs" / "settings.md"
START = "<!-- settings-table:start (python scripts/settings_table.py) -->"
END = "<!-- settings-table:end -->"
DASH = "\N{EN DASH}"


def markdown_table() -> str:
    """One row per setting: name, flag, environment variable, default, help and bounds."""
    lines = [
        "| setting | flag | environment | default | |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        flag = s.flag if s.metavar is None else f"{s.flag} {s.metavar}"
        default = f"`{s.default}`" if s.type is str else show(s.default)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a change")
    args = parser.parse_args()
    current = DOC.read_text(encoding="utf-8")
    wanted = with_table(current)
    if args.check:
        if wanted != current:
            print(f"{DOC.name}: the settings table is stale; run python scripts/settings_table.py")
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
