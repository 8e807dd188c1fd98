"""The one front end: every command in the table, and exit codes a script can rely on
(0 ok/green, 1 red, 2 bad input, 3 crash, 130 interrupted, 141 stdout closed; docs/cli.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from taghost import cli
from taghost.errors import (
    EXIT_BAD_INPUT,
    EXIT_CRASH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PIPE_CLOSED,
    EXIT_RED,
    UserError,
)
from tagsim import scenario

OPENTAG = [sys.executable, "-m", "taghost.cli"]


def _every_command() -> list[list[str]]:
    out = []
    for name, entry in cli.COMMANDS.items():
        if isinstance(entry, cli.Group):
            out += [[name, sub] for sub in entry.commands]
        else:
            out.append([name])
    return out


def test_exit_codes_are_distinct() -> None:
    codes = [EXIT_OK, EXIT_RED, EXIT_BAD_INPUT, EXIT_CRASH, EXIT_INTERRUPTED, EXIT_PIPE_CLOSED]
    assert len(set(codes)) == len(codes) and (EXIT_OK, EXIT_RED, EXIT_BAD_INPUT) == (0, 1, 2)


@pytest.mark.parametrize("argv", _every_command(), ids=" ".join)
def test_every_command_has_help_and_a_handler(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*argv, "--help"]) == EXIT_OK
    assert "usage: opentag " + " ".join(argv) in capsys.readouterr().out
    entry = cli.COMMANDS[argv[0]]
    cmd = entry.commands[argv[1]] if isinstance(entry, cli.Group) else entry
    assert callable(cli.handler(cmd.load))


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["nope"], ["zones"], ["replay", "--chunk", "0"], ["beacon", "window"]):
        assert cli.main(argv) == EXIT_BAD_INPUT, argv
        assert "usage: opentag" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", ["0", "-1", "x"])
def test_sweep_of_no_seeds_is_refused(seeds: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`sim sweep --seeds 0` ran nothing and exited 0 (green)."""
    assert cli.main(["sim", "sweep", "--seeds", seeds]) == EXIT_BAD_INPUT
    assert "--seeds" in capsys.readouterr().err


def _patched(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """`opentag sim list` with the scenario loader raising `exc`."""

    def boom(*args: object, **kw: object) -> None:
        raise exc

    monkeypatch.setattr(scenario, "load", boom)


@pytest.mark.parametrize(
    "exc",
    [
        StopIteration(),
        KeyError("x"),
        ValueError("a bug"),
        OSError("not about a path"),
        ZeroDivisionError(),
        TypeError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_crash_is_not_a_red_run(
    exc: BaseException, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug escaping a command: its traceback on stderr and exit 3, never 1 (red) or 2."""
    _patched(monkeypatch, exc)
    assert cli.main(["sim", "list"]) == EXIT_CRASH
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "this is a bug" in err


def test_user_errors_and_unreadable_paths_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for exc in (
        UserError("the file says no"),
        FileNotFoundError(2, "No such file or directory", str(tmp_path / "x")),
        PermissionError(13, "Permission denied", "/root/x"),
    ):
        _patched(monkeypatch, exc)
        assert cli.main(["sim", "list"]) == EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert err.startswith("opentag sim list: ") and "Traceback" not in err


def test_the_servers_errors_are_the_one_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`opentag server` printed its own errors (exit 2): it raises UserError for cli.main."""
    from taghost.server import cli as srvcli

    no_db = f"sqlite:///{tmp_path}/no/such/x.db"
    with pytest.raises(UserError, match="no such folder"):
        srvcli.cmd_tags(cli.parser().parse_args(["server", "tags", "--db", no_db]))
    assert cli.main(["server", "tags", "--db", no_db]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("opentag server tags: ") and "no such folder" in err


def test_the_demo_is_a_command_of_the_table_and_make_demo_runs_it() -> None:
    from taghost import demo

    entry = cli.COMMANDS["demo"]
    assert isinstance(entry, cli.Command) and cli.handler(entry.load) is demo.cmd_demo
    make = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "opentag demo" in make.split("\ndemo:", 1)[1].split("\n\n", 1)[0]


def test_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _patched(monkeypatch, KeyboardInterrupt())
    assert cli.main(["sim", "list"]) == EXIT_INTERRUPTED
    assert "Traceback" not in capsys.readouterr().err


def test_a_crash_seen_from_a_shell_exits_3() -> None:
    """The same from a fresh interpreter, as a script calling `opentag` sees it."""
    code = (
        "import sys; from tagsim import scenario; from taghost import cli\n"
        "scenario.load = lambda *a: 1 // 0\n"
        "sys.exit(cli.main(['sim', 'list']))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == EXIT_CRASH and "ZeroDivisionError" in p.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["replay", "--all"],
        ["replay", "--json"],
        ["sim", "list"],
        ["beacon", "battery"],
    ],
    ids=" ".join,
)
def test_piping_into_head_leaves_no_traceback(args: list[str]) -> None:
    """`opentag ... | head -1`: the reader closes the pipe early; no BrokenPipeError spew."""
    sh = " ".join([*OPENTAG, *args]) + " | head -c 10 >/dev/null; exit ${PIPESTATUS[0]}"
    p = subprocess.run(["bash", "-c", sh], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr
    assert p.returncode in (EXIT_OK, EXIT_PIPE_CLOSED)


def test_a_missing_dependency_is_named_and_a_missing_own_module_is_a_crash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = cli._tagsim_cli

    def gone() -> object:  # what importing tagsim.cli raises without shapely installed
        raise ModuleNotFoundError("No module named 'shapely'", name="shapely")

    monkeypatch.setattr(cli, "_tagsim_cli", gone)
    assert cli.main(["sim", "list"]) == EXIT_BAD_INPUT
    assert "pip install shapely" in capsys.readouterr().err
    monkeypatch.setattr(cli, "_tagsim_cli", real)
    sim = cli.COMMANDS["sim"]
    assert isinstance(sim, cli.Group)

    def own_missing() -> cli.Handler:
        import tagsim.nosuchmodule  # type: ignore[import-not-found]  # noqa: F401

        raise AssertionError("imported a module that does not exist")

    monkeypatch.setitem(sim.commands, "list", cli.Command("x", own_missing))
    assert cli.main(["sim", "list"]) == EXIT_CRASH
