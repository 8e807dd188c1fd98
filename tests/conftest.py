import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/core modules are plain MicroPython-compatible code; make their helpers importable.
for p in (HERE, HERE / "core", HERE / "mpy"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("OPENTAG_CORPUS", str(HERE.parent.parent / "shared" / "corpus" / "gpsd"))
