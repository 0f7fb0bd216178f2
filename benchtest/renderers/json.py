"""The report as JSON: `Report.to_dict`, indented, non-ASCII kept as is (UTF-8 output), but
the characters a terminal acts on as ``\\u`` escapes: `json` escapes C0 controls only, and leaves
DEL, C1 controls and bidi overrides raw."""

from __future__ import annotations

import json

from ..model import Report
from ..text import referenced


def render(report: Report) -> str:
    text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    return referenced(text, "\\u{:04x}".format) + "\n"
