"""Where the project's files and the shared material live."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
SHARED = Path(os.environ.get("OPENTAG_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "gpsd"
# A phone modem walking in and out of coverage: real fixes, lost fixes, undated epochs.
DEMO_CAPTURE = CORPUS / "quectel-eg25-g.log"
