"""Make docs/report.png, the README's picture: `opentag report` of taghost.samplelog's pulled
log (a walk through a 100 m exclusion zone logged by the core's store), screenshotted in
headless Chromium. Usage: .venv/bin/python docs/report_png.py"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from taghost import report, samplelog

OUT = Path(__file__).resolve().parent / "report.png"


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("needs Chromium (make test installs Debian's chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files = samplelog.write_sample(d / "walk")
        page = d / "report.html"
        doc = report.load(d / "walk", files["zones"])
        doc["source"] = "walk (taghost.samplelog)"
        page.write_text(report.render(doc, files["zones"], "opentag report: a pulled log"))
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={d / 'profile'}",
            "--window-size=960,1010",
            f"--screenshot={OUT}",
            page.as_uri(),
        ]
        subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
