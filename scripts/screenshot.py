"""Refresh docs/sample-report.png: the bundled sample's HTML report, shot in headless Chromium.

    python scripts/screenshot.py [--output docs/sample-report.png] [--size 1100x1400]

Needs Chromium on PATH (scripts/install-chromium.sh). The page is a file on disk and loads
nothing else (its Content-Security-Policy forbids it); the run is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchtest  # noqa: E402  (after the path set-up, so the script runs from a checkout)

TIMEOUT = 60  # seconds
# Headless, offline and quiet: no first-run UI, no background traffic, no name resolution.
# tests/test_browser.py runs Chromium with these same flags.
HEADLESS_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing leaves the machine
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "sample-report.png")
    parser.add_argument("--size", default="1100x1400", help="window WIDTHxHEIGHT in pixels")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))

    settings = benchtest.load_settings(overrides={"url": "sample"}, env={})
    page = benchtest.render(benchtest.run(settings).report, "html")
    with tempfile.TemporaryDirectory(prefix="benchtest-shot-") as tmp:
        html = Path(tmp) / "sample-report.html"
        html.write_text(page, encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        chromium = find_chromium()
        if chromium is None:
            raise SystemExit("screenshot: chromium not on PATH; run scripts/install-chromium.sh")
        command = [
            chromium,
            *HEADLESS_FLAGS,
            "--force-device-scale-factor=1",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            html.as_uri(),
        ]
        # The command is fixed here; only our own temporary paths vary.
        result = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        if result.returncode != 0 or not shot.exists():
            sys.stderr.write(result.stderr[-2000:])
            raise SystemExit(f"screenshot: chromium failed (exit {result.returncode})")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, args.output)
    print(f"screenshot: wrote {args.output} ({args.output.stat().st_size:,} bytes, {args.size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
