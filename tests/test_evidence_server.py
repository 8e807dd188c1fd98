"""The server verifies every batch's seals before it stores it (SQLite and PostgreSQL).

The tag side is the real core: a sealed Store on an in-memory filesystem and the core's
UplinkClient; the server side is taghost.server.ingest.Ingest (the handler behind POST /v1/up).
Honest batches are all taken and their seals kept as anchors; a batch whose seal is forged,
foreign, does not chain, or disagrees with a record the server holds is refused and counted,
and nothing of it is stored. The server's export then verifies with `taghost.verify`.
"""

from __future__ import annotations

from typing import Any

import pytest
from evidencekit import KEY, T0, Tag
from seal_run import K0, KID
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.uplink.client import UplinkClient
from taghost import verify as V
from taghost.server import admin, seals
from taghost.server.db import Database
from taghost.server.ingest import Ingest
from test_store import MemFs


@pytest.fixture
def db(server_db_url: str) -> Any:
    d = Database(server_db_url)
    yield d
    d.close()


def test_honest_batches_are_verified_and_anchored(db: Database) -> None:
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    ing = Ingest(db)
    tag = Tag()
    for _ in range(4):
        tag.walk(400)
        assert set(tag.upload(ing)) == {200}
    assert ing.counts["seals_verified"] >= 20
    assert ing.counts["sealed_records_verified"] >= 1500
    assert not [k for k in ing.counts if k.startswith("refused")]
    with db.tx() as tx:
        exp = seals.export_all(tx, KID.hex())
        nanch = tx.execute("SELECT COUNT(*) FROM anchors").one()[0]
    assert nanch == ing.counts["seals_verified"]
    rep = V.verify(V.import_records(exp["records"]), K0, KID, V.anchors_from_json(exp["anchors"]))
    assert rep.ok, rep.text()
    assert rep.seals == nanch and rep.verified >= 1500
    # the tag's own log (what it still holds after the acks) verifies against the anchors too
    names = sorted(n for n in tag.fs.files if n.startswith("s"))
    pulled = V.read_frames([bytes(tag.fs.files[n]) for n in names])
    rep = V.verify(pulled, K0, KID, V.anchors_from_json(exp["anchors"]))
    assert rep.ok, rep.text()
    assert "HEAD_GONE" in rep.codes() or min(pulled) == 1


def rows(db: Database) -> tuple:
    with db.tx() as tx:
        return tuple(
            tx.execute(f"SELECT COUNT(*) FROM {t}").one()[0]
            for t in ("batches", "fixes", "events", "anchors")
        )


def test_a_record_rewritten_on_the_tag_is_refused(db: Database) -> None:
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    ing = Ingest(db)
    tag = Tag()
    tag.walk(120)
    tag.store.flush()
    # before upload, someone rewrites a sealed event on flash (CRC recomputed)
    name = sorted(n for n in tag.fs.files if n.startswith("s"))[0]
    data = tag.fs.files[name]
    i = 0
    while data[i + 1] != R.EV_ZONE:
        i += R.check_frame(data, i, len(data))
    ln = R.check_frame(data, i, len(data))
    ((seq, kind, (t, d)),) = R.frame_records(data, i, ln)
    data[i : i + ln] = R.frame(kind, seq, R.event_payload(t, bytes([d[0] ^ 1]) + d[1:]))
    before = rows(db)
    assert tag.upload(ing)[-1] == 422
    assert ing.counts["refused_seal_mismatch"] == 1
    assert rows(db)[0] <= before[0] + 1  # batches before the altered one may be stored


def test_forged_foreign_and_unchained_seals_are_refused(db: Database) -> None:
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    ing = Ingest(db)
    # a tag whose slot holds another key (a forger's): its seals do not verify
    forger = Tag(k0=bytes(32))
    forger.walk(60)
    assert forger.upload(ing) == [422]
    assert ing.counts["refused_seal_forged"] == 1
    assert rows(db) == (0, 0, 0, 0)
    # another tag's sealed frames under this tag's uplink identity
    other = Tag(kid=b"\x09" * 8)
    other.up = UplinkClient(other.store, KID, KEY, max_bytes=600)
    other.walk(60)
    assert other.upload(ing) == [422]
    assert ing.counts["refused_seal_foreign"] == 1
    # the right key, but the tag's flash restored to its first state (slot at epoch 0) and
    # written again: a seal of an epoch already anchored, with other contents, is a fork
    honest = Tag()
    honest.walk(100)
    assert set(honest.upload(ing)) == {200}
    with db.tx() as tx:
        e_next = int(tx.execute("SELECT seal_next_epoch FROM tags").one()[0])
    assert e_next > 1
    fs = MemFs()
    S.FileSlot(fs).save(S.pack_slot(0, 0, K0, bytes(16)))
    replay = Tag(fs=fs)
    replay.t += 7  # other fixes; more of them, so its batch counters pass the honest tag's
    replay.walk(300)
    got = replay.upload(ing)
    assert got[-1] == 422, (got, dict(ing.counts))
    assert ing.counts["refused_seal_fork"] == 1
