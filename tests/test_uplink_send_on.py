"""One rule for "send another batch now" after an ack (tagcore.uplink.client.UplinkClient.send_on):
the simulator's seam (AppClient.drain, read by TagApp) and the device shell's send loop
(tagdevice.shell.Shell._send) decide alike, driven through the same cases in MicroPython
(tests/mpy/send_on_run.py): a backlog with or without an alert, a server that takes every batch,
one that acknowledges nothing new, one whose replies fail their MAC."""

from __future__ import annotations

import itertools

from micropython_runner import run_micropython
from tagcore.uplink.client import DRAIN_MIN

# Around DRAIN_MIN records: a backlog that is worth sending on for, and one that is not.
SIZES = (0, 1, 30, DRAIN_MIN, DRAIN_MIN + 1, DRAIN_MIN + 2, 100, 250)
MODES = ("a" * 16, "sa", "ga", "aasa", "aga", "aaag")


def _cases() -> list[tuple[int, int, str]]:
    out = []
    for n, modes in itertools.product(SIZES, MODES):
        for alert in sorted({0, 1, n // 2, n} - ({0} if n == 0 else set())):
            if alert <= n:
                out.append((n, alert, modes))
    return out


def _run(cases: list[tuple[int, int, str]]) -> list[tuple[str, str, int, int]]:
    stdin = "".join(f"{n} {a} {m}\n" for n, a, m in cases).encode()
    lines = run_micropython(module="send_on_run", stdin=stdin, heap=4 << 20, timeout=600)
    rows = [ln.split() for ln in lines.splitlines() if ln.startswith(("app ", "shell "))]
    assert len(rows) == 2 * len(cases), lines[-2000:]
    out = []
    for app, shell in zip(rows[0::2], rows[1::2], strict=True):
        assert app[0] == "app" and shell[0] == "shell"
        out.append(
            (
                app[1] if len(app) == 3 else "",
                shell[1] if len(shell) == 3 else "",
                int(app[-1]),
                int(shell[-1]),
            )
        )
    return out


def test_the_app_seam_and_the_device_shell_send_on_by_one_rule() -> None:
    cases = _cases()
    got = _run(cases)
    differ = [(c, g) for c, g in zip(cases, got, strict=True) if g[0] != g[1] or g[2] != g[3]]
    assert differ == []
    by_case = dict(zip(cases, got, strict=True))
    # what the rule is: a server taking every batch drains a backlog down to DRAIN_MIN at once
    # and leaves the rest for the next upload; a refused reply stops, and so does an ack of
    # nothing new unless its batch took an alert (then the backlog behind it follows)
    for (n, alert, modes), (dec, _, left, _) in by_case.items():
        if modes == "a" * 16:
            assert dec.endswith("0") and left <= DRAIN_MIN, (n, alert, dec, left)
            if n >= 250:  # several batches: sent on at once
                assert "1" in dec, (n, alert, dec)
        if modes[0] == "g" or (modes[0] == "s" and alert == 0):
            assert dec == "0", (n, alert, modes, dec)
    assert by_case[(250, 125, "sa")][0].startswith("1")  # the stuck ack took the alert
