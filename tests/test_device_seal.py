"""A sealing tag, whole firmware on the simulated board (docs/evidence.md): the device shell
takes its initial seal key from /prov/seal.key into the key slot in its key partition (no older
key left readable on the chip), removes it, and
seals as it writes, through deep sleeps (RAM gone, the store resumed from RTC memory), a
watchdog reset and a power cut mid-write. The real `opentag server` on loopback verifies every
batch's seals before it stores it; its export verifies against its anchors; and the log pulled
off the board's flash verifies with `opentag pull` and `opentag verify`."""

from __future__ import annotations

import json
from pathlib import Path

from devicekit import (
    SEAL_KEY,
    TAG,
    RealServer,
    compile_config,
    run_board,
    write_prov,
)
from micropython_runner import run_micropython
from tagcore.store import keyslot as KS
from tagcore.store import record as R
from tagcore.store import seal as S
from taghost import cli
from taghost import verify as V
from taghost.server import seals

KID = bytes.fromhex(TAG)


class ChipImage:
    """A key partition's bytes as esp32.Partition reads them (tagcore.store.keyslot.PartSlot);
    counts the erases the slot would do (none if it holds one valid record and nothing else)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.erases = 0

    def readblocks(self, n: int, buf: bytearray, off: int = 0) -> None:
        buf[:] = self.data[n * 4096 + off : n * 4096 + off + len(buf)]

    def ioctl(self, op: int, arg: int) -> int:
        if op == 6:
            self.erases += 1
        return {4: len(self.data) // 4096, 5: 4096}.get(op, 0)


BS = 4096  # tests/mpy/device_board.py's flash block

# Copies the board's /log and /prov off its littlefs image into a host folder.
EXTRACT = """
import os, vfs
class Img:
    def __init__(self, f):
        self.f = f
    def readblocks(self, n, buf, off=0):
        self.f.seek(n * {bs} + off)
        self.f.readinto(buf)
    def writeblocks(self, n, buf, off=0):
        raise OSError(30)
    def ioctl(self, op, arg):
        return {{4: {nblk}, 5: {bs}}}.get(op, 0 if op == 6 else None)
os.mount(vfs.VfsLfs2(Img(open({img!r}, 'rb'))), '/flash', readonly=True)
for d in ('log', 'prov'):
    os.mkdir({out!r} + '/' + d)
    for n in os.listdir('/flash/' + d):
        with open('/flash/' + d + '/' + n, 'rb') as a, open({out!r} + '/' + d + '/' + n, 'wb') as b:
            b.write(a.read())
print('ok')
"""


def test_a_sealed_tag_is_verified_by_the_server_across_sleep_reset_and_power_cut(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=300)
    prov = write_prov(tmp_path / "prov", server.port, config=cfg)
    hang, cut = 1500, 3000
    run = run_board(
        tmp_path, firmware, prov, 4 * 3600, events=[[hang, "hang"], [cut, "power_cut", 2]]
    )
    assert run.value("DEEPSLEEPS") >= 100 and run.value("WDT") == 1 and run.value("CUTS") == 1
    causes = [b.group(4) for b in run.banners()]
    assert {"pwron", "wdt", "deepsleep"} <= set(causes) and causes.count("pwron") == 2
    infos = [m.group(4) for m in run.logs("prov")]
    assert infos.count("seal.key ok") == len(run.banners()), infos  # at every boot
    assert not run.logs("prov", "ERROR")

    with server.db.tx() as tx:
        export = seals.export_all(tx, TAG)
        anchored = tx.execute("SELECT epoch, hi FROM anchors WHERE tag = ?", (TAG,)).all()
    recs = V.import_records(export["records"])
    rep = V.verify(recs, SEAL_KEY, KID, V.anchors_from_json(export["anchors"]))
    assert rep.ok, rep.text()
    # sealed every 15 minutes of writing, through the deep sleeps, and at each of the 3 boots
    assert len(anchored) >= 4 * 4 and sorted(int(e) for e, _ in anchored) == list(
        range(len(anchored))
    )
    # every record the server holds is verified, but for the tail its seal has not brought yet
    hi = max(int(h) for _, h in anchored)
    data = [s for s, (k, _) in recs.items() if k != R.EV_SEAL]
    tail = set(rep.seqs("UNSEALED_TAIL"))
    assert rep.verified == len(data) - len(tail) and all(s > hi for s in tail)
    assert len([s for s in data if recs[s][0] == R.KIND_FIXES]) >= 200
    boots = [e for e in server.events() if e[1] == R.EV_BOOT]
    assert len(boots) == len(causes) - causes.count("deepsleep"), (boots, causes)

    # the flash: k0 is gone, the slot holds a later epoch's key; the pulled log verifies
    got = tmp_path / "flash"
    got.mkdir()
    code = EXTRACT.format(bs=BS, nblk=256, img=str(tmp_path / "flash.img"), out=str(got))
    assert run_micropython(code=code).strip() == "ok"
    assert not (got / "prov" / "seal.key").exists()
    # the slot is in the board's key partition (a NOR chip), not on littlefs
    assert not (got / "log" / "k").exists()
    chip = (tmp_path / "flash.img.sealkey").read_bytes()
    part = ChipImage(chip)
    slot = S.unpack_slot(KS.PartSlot(part).load())
    assert part.erases == 0  # one valid record, nothing else to erase
    assert slot is not None and slot[0] >= len(anchored) and slot[2] != SEAL_KEY
    assert slot[2] == S.key_at(SEAL_KEY, slot[0])
    # and no earlier evolved key is anywhere on the chip or in the littlefs image
    img = (tmp_path / "flash.img").read_bytes()
    for e in range(1, slot[0]):
        k = S.key_at(SEAL_KEY, e)
        assert k not in chip and k not in img, e
    pulled = tmp_path / "pulled"
    assert cli.main(["pull", "--from-dir", str(got / "log"), "--out", str(pulled)]) == 0
    (tmp_path / "anchors.json").write_text(json.dumps(export["anchors"]))
    out = tmp_path / "report.json"
    argv = ["verify", str(got / "log"), "--tag", TAG, "--key", SEAL_KEY.hex(), "--json"]
    argv += ["--anchors", str(tmp_path / "anchors.json"), "--out", str(out)]
    assert cli.main(argv) == 0
    doc = json.loads(out.read_text())
    # what the tag still holds (the server's acknowledgements truncated the rest) is verified
    # but for its unsealed tail, and nothing else is found
    notes = {f["code"]: f["seqs"] for f in doc["findings"]}
    assert doc["ok"] and set(notes) <= {"HEAD_GONE", "UNSEALED_TAIL"}, doc["findings"]
    assert (
        doc["verified"] >= 50
        and doc["verified"] + len(notes.get("UNSEALED_TAIL", [])) == (doc["records"])
    )
