"""The report as JSON: `Report.to_dict`, indented, non-ASCII kept as is (UTF-8 output)."""

from __future__ import annotations

import json

from ..model import Report


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
