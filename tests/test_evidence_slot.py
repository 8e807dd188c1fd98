"""A key slot the log's seals are not of: the slot made anew from k0 after the log sealed more
epochs than boot catches up over, or another tag's slot. Sealing on from it would write a second
epoch 0 (a fork the server refuses, so no batch of the tag would be taken again); the store runs
unsealed instead, counted `seal_slot_behind` (docs/evidence.md)."""

from __future__ import annotations

import itertools

import pytest
from evidencekit import Tag
from seal_run import K0, KID
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import MAX_AGE, Store
from test_store import mkfix


def _sealed_log(epochs: int) -> Tag:
    tag = Tag()
    while tag.store.sealer.epoch < epochs:
        tag.walk(40)
        tag.t += 1000  # the next write ends the epoch
    tag.store.flush()
    return tag


def _seal_epochs(fs) -> list[int]:
    st = Store(fs, 0)
    recs, _ = st.read(1, 1 << 20)
    return [S.parse(v[1])[1] for _, kind, v in recs if kind == R.EV_SEAL]


@pytest.mark.parametrize(("epochs", "k0"), [(70, K0), (3, bytes(32))], ids=["behind", "foreign"])
def test_a_slot_the_seals_are_not_of_runs_unsealed_and_never_forks(epochs: int, k0: bytes) -> None:
    tag = _sealed_log(epochs)
    before = _seal_epochs(tag.fs)
    assert before[-1] >= epochs - 1
    S.provision(S.FileSlot(tag.fs), k0)  # the slot lost and made again from an initial key
    st = Store(tag.fs, tag.t + 10, sealer=S.Sealer(S.FileSlot(tag.fs), KID))
    assert st.counts.get("seal_slot_behind") == 1 and st.sealer.key is None
    t = tag.t + 10
    for k in range(300):
        t += 30
        st.append_fix(t, mkfix(k, t))
    st.flush()
    assert _seal_epochs(tag.fs) == before  # no second epoch 0: nothing sealed after it


def test_a_slot_one_epoch_behind_its_newest_seal_still_catches_up() -> None:
    tag = _sealed_log(5)
    sl = tag.store.sealer
    # the slot as it was before the newest seal's step (a cut between the seal and the slot)
    S.FileSlot(tag.fs).save(S.pack_slot(sl.epoch - 1, 0, S.key_at(K0, sl.epoch - 1), bytes(16)))
    st = Store(tag.fs, tag.t + 10, sealer=S.Sealer(S.FileSlot(tag.fs), KID))
    assert "seal_slot_behind" not in st.counts and st.sealer.key is not None


def test_a_tag_that_deep_sleeps_between_fixes_still_seals_every_15_minutes() -> None:
    # A wake from deep sleep rebuilds the sealer (RAM is gone) and resumes the store from RTC
    # memory: the open epoch's clock must not restart at every wake, or a tag waking each
    # minute would seal only every SEAL_MAX records (two hours), not every SEAL_EVERY.
    from tagcore.store import rtcstate

    tag = Tag()
    fs, t = tag.fs, tag.t
    rtc = None
    for k in range(240):  # four hours, a fix a minute, asleep in between
        t += 60
        st = Store(fs, t, sealer=S.Sealer(S.FileSlot(fs), KID), rtc=rtc)
        st.append_fix(t, mkfix(k, t))
        rtc = rtcstate.pack(st)
        assert rtc is not None
    st.flush()
    recs, _ = Store(fs, 0).read(1, 1 << 20)
    times = [v[0] for _, kind, v in recs if kind == R.EV_SEAL]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # an epoch ends at the first synced write after SEAL_EVERY: buffered fixes sync within
    # the store's MAX_AGE
    assert len(times) >= 12 and max(gaps) <= S.SEAL_EVERY + MAX_AGE + 60, gaps
