"""Renderers, one module per format, chosen by name and imported on first use.

``render(report, "html")`` imports `benchtest.renderers.html` (and its chart geometry) only then,
so the CLI printing a table and the handler's cold start do not pay for formats they never write.
Each module has ``render(report: Report) -> str``; the text ends with a newline.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ..model import Report

FORMATS = ("table", "json", "csv", "html")


def render(report: Report, fmt: str) -> str:
    """Render ``report`` as ``fmt`` (one of `FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    renderer: Callable[[Report], str] = import_module(f"{__name__}.{fmt}").render
    return renderer(report)
