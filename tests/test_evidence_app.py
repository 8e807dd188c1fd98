"""The tag app with a sealer (TagApp(..., sealer=)): its store seals as the app writes, a tamper
alert is sealed before the app returns, and the log verifies."""

from __future__ import annotations

import simworld
from seal_run import K0, KID
from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.store import record as R
from tagcore.store import seal as S
from taghost import verify as V
from tagkit.memfs import MemFs

T0 = simworld.START


def test_the_apps_alerts_are_sealed_at_once_and_the_log_verifies() -> None:
    fs = MemFs()
    S.provision(S.FileSlot(fs), K0)
    tag = TagApp(TagConfig(upload_interval_s=900), fs, T0, sealer=S.Sealer(S.FileSlot(fs), KID))
    for t in range(T0, T0 + 3 * 3600, 60):
        tag.wake(t)
    seals = tag.store.counts.get("seals", 0)
    tag.tamper(T0 + 3 * 3600 + 5, "case_open")
    assert tag.store.counts["seals"] == seals + 1  # the alert's own seal, before it returned
    names = sorted(n for n in fs.files if n.startswith("s"))
    recs = V.read_frames([bytes(fs.files[n]) for n in names])
    rep = V.verify(recs, K0, KID)
    assert rep.ok, rep.text()
    tamper = [s for s, (k, _) in recs.items() if k == R.EV_TAMPER]
    assert tamper and not set(tamper) & set(rep.seqs("UNSEALED_TAIL"))
