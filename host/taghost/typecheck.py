"""Type-check the device code against MicroPython's ESP32 stubs, and the host code under CPython.

mypy sees MicroPython's standard library (micropython-stdlib-stubs, as a custom typeshed) and
the ESP32 port's modules (micropython-esp32-stubs: machine, bluetooth, esp32, micropython, ...),
so CPython-only names used on the device are errors. Code that runs only under CPython sits
behind `if IS_MICROPYTHON: ... else: ...`, which mypy is told to take as always true.
The host check (host_main) runs mypy over host/taghost and simulator/tagsim with CPython's
typeshed and site-packages, configured in pyproject.toml's [tool.mypy]; the simulator's portable
tag app (tagsim/tagapp, run by MicroPython) is in the device check instead.
Usage: python -m taghost.typecheck [PATH ...]   (PATHs: the device check of those only;
default: the device check of firmware/, tagkit and the simulator's tag app, then the host check)
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
TAGKIT = ROOT / "host" / "tagkit"  # portable host code: MicroPython runs it too (tests, simulator)
TAGAPP = ROOT / "simulator" / "tagsim" / "tagapp"  # the simulator's tag: MicroPython runs it
HOST = [ROOT / "host" / "taghost", ROOT / "simulator" / "tagsim"]
STUB_DIR = ROOT / "build" / "esp32-stubs"


def esp32_stub_dir() -> Path:
    """A directory holding only the ESP32 port's stub files (mypy refuses site-packages itself).

    Built once into a temporary name and renamed, so parallel runs never see a half-made one.
    """
    dist = importlib.metadata.distribution("micropython-esp32-stubs")
    marker = STUB_DIR / f".{dist.version}"
    if marker.exists():
        return STUB_DIR
    tmp = STUB_DIR.with_name(f"{STUB_DIR.name}.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in dist.files or []:
        if f.suffix != ".pyi" or f.parts[0].endswith(".dist-info"):
            continue
        dst = tmp / Path(*f.parts)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(Path(str(f.locate())), dst)
    # The ESP32 stubs import helper types from micropython-stdlib-stubs' private package.
    shed = Path(sysconfig.get_paths()["purelib"]) / "_mpy_shed"
    if shed.is_dir():
        os.symlink(shed, tmp / "_mpy_shed")
    (tmp / marker.name).touch()
    shutil.rmtree(STUB_DIR, ignore_errors=True)
    try:
        os.rename(tmp, STUB_DIR)
    except OSError:  # another run made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return STUB_DIR


def mypy_config() -> Path:
    """A mypy config that silences errors inside the stubs: they are the stub authors', not ours."""
    mods = sorted(
        {p.relative_to(STUB_DIR).with_suffix("").parts[0] for p in STUB_DIR.glob("*.pyi")}
        | {"_mpy_shed", "_mpy_shed.*"}
    )
    cfg = STUB_DIR.parent / "mypy-device.ini"
    body = "[mypy]\n" + "".join(f"\n[mypy-{m}]\nignore_errors = True\n" for m in mods)
    tmp = cfg.with_name(f"{cfg.name}.{os.getpid()}")
    tmp.write_text(body)
    os.replace(tmp, cfg)
    return cfg


def host_main(paths: list[str] | None = None) -> int:
    """mypy over the host code (default: taghost and tagsim) with pyproject.toml's config."""
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    cmd += paths if paths else [str(p) for p in HOST]
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    if argv:
        return device_main(argv)
    return device_main([str(FIRMWARE), str(TAGKIT), str(TAGAPP)]) or host_main()


def device_main(paths: list[str]) -> int:
    """mypy over `paths` as device code (MicroPython's stdlib and ESP32 stubs)."""
    purelib = sysconfig.get_paths()["purelib"]
    if not (Path(purelib) / "stdlib" / "VERSIONS").exists():
        print("micropython-stdlib-stubs is not installed (make test installs it)", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env["MYPYPATH"] = os.pathsep.join([str(FIRMWARE), str(TAGKIT.parent), str(esp32_stub_dir())])
    config = mypy_config()
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--custom-typeshed-dir",
        purelib,
        "--python-version",
        "3.10",
        "--no-site-packages",
        "--explicit-package-bases",
        "--always-true",
        "IS_MICROPYTHON",
        "--check-untyped-defs",
        "--config-file",
        str(config),
        "--cache-dir",
        str(ROOT / "build" / "mypy-device-cache"),
        *paths,
    ]
    return subprocess.run(cmd, env=env, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
