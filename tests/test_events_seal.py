"""EV_SEAL through the event vocabulary: tagcore.events.decode delegates to the seal's own
parser (tagcore.store.seal.parse) and answers its named record, Seal; bytes that are not a seal
are a ValueError, as for every kind. CPython only, as the other seal tests: the seal module
(hashlib, HMAC) does not fit beside test_events in tests/core's 64 KB MicroPython heap."""

from __future__ import annotations

from seal_run import K0
from tagcore import events as E
from tagcore.store import record as R
from tagcore.store import seal as S


def raises(fn, *args) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def _seal_data() -> tuple[bytes, int]:
    d = bytearray((S.VERSION,)) + bytes(range(1, 1 + S.KID_LEN))
    for v in (3, 100, 104, 2, 1):  # epoch, first, last, fixes, events
        R.put_varint(d, v)
    d += bytes(range(3 * S.MAC_LEN))  # event digest, prev mac, mac
    signed = len(d) - S.MAC_LEN
    for gap, is_fix in ((0, 1), (2, 0), (2, 1)):  # seqs 100, 102, 104
        R.put_varint(d, (gap << 1) | is_fix)
        d += bytes((0xA0 + gap, 1, 2, 3))
    return bytes(d), signed


def test_a_seal_decodes_to_the_seals_own_record() -> None:
    data, signed = _seal_data()
    ev = E.decode(R.EV_SEAL, 7, data)
    assert ev == S.parse(data) and type(ev) is S.Seal
    assert (ev.kid, ev.epoch, ev.first, ev.last, ev.fixes, ev.events) == (
        bytes(range(1, 9)),
        3,
        100,
        104,
        2,
        1,
    )
    assert (
        ev.signed == signed and ev.mac == bytes(range(32, 48)) and ev.prev == bytes(range(16, 32))
    )
    assert [e[0] for e in ev.entries] == [100, 102, 104] and ev.entries[1][1] == 0
    for n in range(len(data)):  # every truncation is refused, or is not this seal
        got = None
        try:
            got = E.decode(R.EV_SEAL, 7, data[:n])
        except ValueError:
            pass
        assert got != ev, n
    assert raises(E.decode, R.EV_SEAL, 7, b"\x01" + data[1:])  # another version
    assert raises(E.encode, ev)  # the sealer frames a seal itself


def test_a_stored_seal_decodes_and_its_named_fields_are_the_positional_ones() -> None:
    # real seals, out of a sealing store (tests/evidencekit.py), through the codec
    from evidencekit import Tag
    from tagcore.store.log import Store

    tag = Tag()
    while tag.store.sealer.epoch < 3:
        tag.walk(40)
        tag.t += 1000  # the next write ends the epoch
    tag.store.flush()
    recs, _ = Store(tag.fs, 0).read(1, 1 << 20)
    seals = [v for _, kind, v in recs if kind == R.EV_SEAL]
    assert len(seals) >= 3
    for t, d in seals:
        ev = E.decode(R.EV_SEAL, t, d)
        assert ev == S.parse(d) and ev.epoch == ev[1] and ev.entries == ev[10] and ev.entries
        assert S.seal_mac(S.key_at(K0, ev.epoch), d[: ev.signed]) == ev.mac
