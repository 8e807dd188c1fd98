"""The tag's uplink codec held against cbor2 and pycose (hypothesis).

Every batch the core writes verifies in pycose and decodes, in the real server's cbor2 decoder
(taghost.server.wire), into exactly the store's records; every acknowledgement pycose writes
verifies in the core with the same values; the core refuses every reply pycose or cbor2 would
refuse (and more: it is strict about types). The interleavings run against the real server's
ingest (taghost.server.ingest on SQLite), not a model of it."""

from __future__ import annotations

import cbor2
import uplink_oracle as O
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.uplink import ack as A
from tagcore.uplink import cbor, cose
from tagcore.uplink.client import ACKED, UplinkClient
from taghost.server import admin, wire
from taghost.server.db import Database
from taghost.server.ingest import Ingest
from test_store import MemFs

KEY = bytes(range(100, 132))
KID = b"ORACLE01"


def parse_batch(body: bytes) -> tuple[wire.Batch, list[tuple[int, tuple]]]:
    """The batch as the real server decodes it (raises wire.Refused), and its records as
    (seq, ("fix", Fix) | (kind, t, data))."""
    b = wire.parse_batch(wire.verify(wire.open_envelope(body), KEY), KID)
    out: list[tuple[int, tuple]] = []
    for r in b.recs:
        if isinstance(r, wire.FixRun):
            out += [(r.seq + k * r.stride, ("fix", f)) for k, f in enumerate(r.fixes)]
        else:
            out.append((r.seq, (r.kind, r.t, r.data)))
    return b, out


class RealIngest:
    """The real server's ingest (what POST /v1/up runs) on a fresh SQLite file, tag provisioned."""

    def __init__(self) -> None:
        import tempfile

        self.tmp = tempfile.TemporaryDirectory(prefix="oracle-")
        self.db = Database(f"sqlite:///{self.tmp.name}/server.db")
        admin.provision(self.db, KID.hex(), 0, KEY)
        self.ingest = Ingest(self.db)

    def handle(self, body: bytes, t: int) -> tuple[int, bytes]:
        status, reply, _ = self.ingest.handle(body, t * 1000)
        return status, reply

    def seqs(self) -> set[int]:
        with self.db.tx() as tx:
            q = "SELECT seq FROM fixes WHERE tag = ? UNION ALL SELECT seq FROM events WHERE tag = ?"
            rows = tx.execute(q, (KID.hex(), KID.hex())).all()
        out = [int(r[0]) for r in rows]
        assert len(out) == len(set(out))  # (tag, seq) is the key: once
        return set(out)

    def acked(self) -> int:
        with self.db.tx() as tx:
            row = tx.execute("SELECT acked FROM tags WHERE tag = ?", (KID.hex(),)).one()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.db.close()
        self.tmp.cleanup()


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

i32 = st.integers(-(2**31), 2**31 - 1)
opt = st.one_of(st.none(), i32)
fixes = st.builds(
    Fix,
    st.integers(0, 2**31 - 1),
    st.integers(0, 999),
    st.integers(-90_000_000, 90_000_000),
    st.integers(-180_000_000, 180_000_000),
    opt,
    opt,
    opt,
    opt,
    opt,
    st.integers(0, 127),
    st.integers(0, 15),
    st.integers(0, 3),
    st.integers(0, 0xFFFF),
)
events = st.tuples(st.integers(R.EV_FIRST, 255), i32, st.binary(max_size=40))
ops = st.lists(
    st.one_of(
        st.tuples(st.just("fix"), fixes, st.integers(1, 400)),
        st.tuples(st.just("event"), events, st.just(0)),
    ),
    min_size=0,
    max_size=150,
)


def cbor_values(leaves):
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.lists(kids, max_size=5),
            st.dictionaries(st.integers(-(2**40), 2**40), kids, max_size=5),
        ),
        max_leaves=20,
    )


def core_enc(v) -> bytes:
    out = bytearray()
    if isinstance(v, bytes):
        cbor.put_bytes(out, v)
    else:
        cbor.put_int(out, v)
    return bytes(out)


@given(st.one_of(st.integers(-(2**64), 2**64 - 1), st.binary(max_size=300)))
@SETTINGS
def test_core_encoder_writes_what_cbor2_writes(v) -> None:
    assert core_enc(v) == cbor2.dumps(v)


@given(cbor_values(st.one_of(st.integers(-(2**64), 2**64 - 1), st.binary(max_size=20))))
@SETTINGS
def test_core_decoder_reads_what_cbor2_writes(v) -> None:
    assert cbor.decode(cbor2.dumps(v)) == v


@given(st.binary(max_size=60))
@settings(max_examples=2000, deadline=None)
def test_core_decoder_never_accepts_what_cbor2_refuses(b: bytes) -> None:
    try:
        got = cbor.decode(b)
    except ValueError:
        return
    want = cbor2.loads(b)  # must not raise: the core accepted it

    def plain(x):
        if isinstance(x, cbor.Tagged):
            return ("tag", x.tag, plain(x.value))
        if isinstance(x, cbor2.CBORTag):
            return ("tag", x.tag, plain(x.value))
        if isinstance(x, (list, tuple)):
            return [plain(y) for y in x]
        if isinstance(x, dict) or hasattr(x, "items"):
            return {k: plain(y) for k, y in x.items()}
        return x

    assert plain(got) == plain(want)


def run_ops(st_: Store, todo) -> int:
    t = 800_000_000
    for kind, v, dt in todo:
        t += dt
        if kind == "fix":
            st_.append_fix(t, v._replace(t=t))
        else:
            try:
                st_.append_event(v[0], v[1], v[2])
            except ValueError:  # a frame larger than a segment: refused, nothing stored
                pass
    return t


@given(ops, st.integers(60, 3000), st.integers(4, 12))
@SETTINGS
def test_every_batch_verifies_in_pycose_and_carries_exactly_the_store(todo, max_bytes, segs):
    s = Store(MemFs(), 800_000_000, max_segments=segs, seg_bytes=512)
    now = run_ops(s, todo)
    expect = {r[0]: r for r in s.read(1, 100000, True)[0]}
    c = UplinkClient(s, KID, KEY, held={2: 5, 1: 17}, max_bytes=max_bytes)
    got = {}
    ctrs = []
    for _ in range(500):
        body = c.request(now)
        if body is None:
            break
        p = O.verify(bytes(body), KEY, O.AAD_UP, KID)
        assert p is not None, "pycose refused a batch the core wrote"
        b, recs = parse_batch(bytes(body))
        ctr, sent, first, last, held = b.ctr, b.sent, b.first, b.last, b.held
        assert p[1] == KID and sent == now and held == {1: 17, 2: 5}
        assert first == c.acked + 1
        ctrs.append(ctr)
        want = [expect[q] for q in sorted(expect) if first <= q <= last]
        assert [q for q, _ in recs] == [r[0] for r in want]  # coverage: nothing else exists
        for (q, v), r in zip(recs, want, strict=True):
            if r[1] == R.KIND_FIXES:
                assert v == ("fix", r[2])
            else:
                assert v == (r[1], r[2][0], r[2][1])
            got[q] = v
        # Acknowledge with pycose: the end of this batch.
        assert c.on_reply(now, O.ack(KEY, KID, ctr, last, now, [])) == ACKED
    assert set(got) == set(expect)
    assert ctrs == sorted(set(ctrs))


@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**32),
    st.integers(0, 2**32),
    st.lists(
        st.tuples(st.integers(0, 2**32), st.integers(0, 2**64 - 1), st.binary(max_size=64)),
        max_size=5,
    ),
)
@SETTINGS
def test_pycose_acks_verify_in_the_core(ctr, acked, t, items) -> None:
    down = [list(x) for x in items]
    b = O.ack(KEY, KID, ctr, acked, t, down)
    assert A.parse(KEY, KID, b) == (ctr, acked, t, down, None)
    # ... and the core's own acknowledgements (the in-process double's) verify in pycose.
    assert O.verify(bytes(A.encode(KEY, KID, ctr, acked, t, items)), KEY, O.AAD_DOWN, KID) == {
        1: KID,
        2: ctr,
        3: acked,
        4: t,
        5: down,
    }


def good_ack() -> bytes:
    return O.ack(KEY, KID, 7, 3, 1000, [[1, 2, b"abc"]])


def oracle_accepts(b: bytes) -> bool:
    p = O.verify(b, KEY, O.AAD_DOWN, KID)
    return p is not None and isinstance(p, dict)


@given(st.data())
@settings(max_examples=1500, deadline=None)
def test_core_refuses_every_mutation_pycose_refuses(data) -> None:
    b = bytearray(good_ack())
    how = data.draw(st.sampled_from(["flip", "cut", "append", "insert"]))
    if how == "flip":
        i = data.draw(st.integers(0, len(b) - 1))
        b[i] ^= data.draw(st.integers(1, 255))
    elif how == "cut":
        b = b[: data.draw(st.integers(0, len(b) - 1))]
    elif how == "append":
        b += data.draw(st.binary(min_size=1, max_size=4))
    else:
        i = data.draw(st.integers(0, len(b)))
        b[i:i] = data.draw(st.binary(min_size=1, max_size=3))
    core = A.parse(KEY, KID, bytes(b))
    if core[4] is None:
        assert oracle_accepts(bytes(b)), b.hex()


def test_core_refuses_what_pycose_refuses_by_construction() -> None:
    p = cbor2.dumps({1: KID, 2: 7, 3: 3, 4: 1000, 5: []})
    cases = {
        "wrong key": O.mac0_encode(p, bytes(32), O.AAD_DOWN, KID),
        "wrong aad": O.mac0_encode(p, KEY, O.AAD_UP, KID),
        "wrong kid": O.mac0_encode(p, KEY, O.AAD_DOWN, b"OTHERTAG"),
        "untagged": cbor2.dumps(cbor2.loads(O.mac0_encode(p, KEY, O.AAD_DOWN, KID)).value),
    }
    for name, b in cases.items():
        assert not oracle_accepts(b) or name == "untagged", name
        assert A.parse(KEY, KID, b)[4] is not None, name
    # Verifies, but wrong types or shape: refused by the core (pycose cannot tell).
    for bad in (
        {1: KID, 2: "7", 3: 3, 4: 1000, 5: []},
        {1: KID, 2: 7, 3: -3, 4: 1000, 5: []},
        {1: KID, 2: 7, 3: 3.0, 4: 1000, 5: []},
        {1: KID, 2: 7, 3: 3, 4: 1000, 5: [[1, 2]]},
        {1: KID, 2: 7, 3: 3, 4: 1000, 5: [[1, 2, "text"]]},
        {1: KID, 2: 7, 3: 3, 4: 1000, 5: None},
        {1: KID, 2: 7, 3: 3, 4: 1000, 5: [], "x": 1},
        {1: KID, 2: 7, 3: 3, 4: 1000, 5: [], 5.5: 1},
        {1: b"OTHERTAG", 2: 7, 3: 3, 4: 1000, 5: []},
        {1: KID, 2: True, 3: 3, 4: 1000, 5: []},
        [KID, 7, 3, 1000, []],
    ):
        b = O.mac0_encode(cbor2.dumps(bad), KEY, O.AAD_DOWN, KID)
        assert oracle_accepts(b) or not isinstance(bad, dict)  # the MAC is fine
        assert A.parse(KEY, KID, b)[4] == A.MALFORMED, bad


@given(st.binary(max_size=200))
@settings(max_examples=500, deadline=None)
def test_arbitrary_replies_never_raise_nor_delete(b: bytes) -> None:
    s = Store(MemFs(), 800_000_000, seg_bytes=256)
    t = run_ops(s, [("fix", Fix(0, 0, 1, 2, None, None, None, 40, None, 5, 1, 3, 0), 60)] * 80)
    c = UplinkClient(s, KID, KEY)
    c.request(t)
    segs = [list(x) for x in s.segs]
    assert c.on_reply(t, b) != ACKED
    assert [list(x) for x in s.segs] == segs and c.acked == 0


def a_batch() -> bytes:
    s = Store(MemFs(), 800_000_000, seg_bytes=256)
    t = run_ops(s, [("fix", Fix(0, 0, 1, 2, None, None, None, 40, None, 5, 1, 3, 0), 60)] * 8)
    return bytes(UplinkClient(s, KID, KEY).request(t))


@given(st.data())
@settings(max_examples=1500, deadline=None)
def test_the_servers_decoder_refuses_bad_bytes_only_with_refused(data) -> None:
    # Every mutation of a real batch, and arbitrary bytes, end as a Refused (a 400 or 401) or
    # a batch: never another exception, which the server would log as its own crash.
    b = bytearray(data.draw(st.sampled_from([a_batch(), b""])))
    how = data.draw(st.sampled_from(["flip", "cut", "insert", "random"]))
    if how == "flip" and b:
        b[data.draw(st.integers(0, len(b) - 1))] ^= data.draw(st.integers(1, 255))
    elif how == "cut":
        b = b[: data.draw(st.integers(0, len(b)))]
    elif how == "insert":
        i = data.draw(st.integers(0, len(b)))
        b[i:i] = data.draw(st.binary(min_size=1, max_size=3))
    else:
        b = bytearray(data.draw(st.binary(max_size=120)))
    try:
        parse_batch(bytes(b))
    except wire.Refused:
        pass


def test_the_servers_decoder_lets_a_programming_error_raise() -> None:
    # A caller's mistake (no bytes at all) is not a malformed upload: it must not be a 400.
    for wrong in (None, 12345):
        try:
            wire.open_envelope(wrong)  # type: ignore[arg-type]
        except TypeError:
            continue
        raise AssertionError(repr(wrong))
    env = wire.open_envelope(a_batch())
    try:
        wire.verify(env, None)  # type: ignore[arg-type]  # a key that is no key
    except wire.Refused:
        raise AssertionError("a missing key taken for a forged MAC") from None
    except Exception:
        pass


def test_the_server_refuses_the_cores_envelopes_around_bad_payloads_and_stores_nothing() -> None:
    srv = RealIngest()
    try:
        good = bytes(cose.encode(KEY, KID, cose.AAD_UP, cbor2.dumps({1: KID})))
        assert srv.handle(good, 1)[0] == 400  # a valid MAC around a payload that is no batch
        assert srv.handle(bytes(cose.encode(bytes(32), KID, cose.AAD_UP, b"\xa0")), 1)[0] == 401
        assert srv.handle(bytes(cose.encode(KEY, b"NOBODY00", cose.AAD_UP, b"\xa0")), 1)[0] == 403
        assert not srv.seqs() and srv.acked() == 0
    finally:
        srv.close()


@given(st.lists(fixes, min_size=1, max_size=64))
@SETTINGS
def test_packed_runs_round_trip_any_fixes(run: list) -> None:
    from tagcore.uplink import fixcodec, fixdecode

    pk = fixcodec.Packer(64)
    out = bytearray()
    pk.start(out, run[0])
    for f in run[1:]:
        pk.add(f)
    pk.finish(out)
    assert fixdecode.decode(bytes(out), len(run)) == run


steps = st.lists(
    st.sampled_from(["fix", "fix", "fix", "event", "alert", "up", "up_lost", "reply_lost"]),
    max_size=120,
)


@given(steps, st.integers(80, 2000), st.integers(0, 2**16))
@SETTINGS
def test_any_interleaving_keeps_every_record_at_the_server_or_on_the_tag(todo, max_bytes, seed):
    d = RealIngest()
    try:
        interleave(d, todo, max_bytes)
    finally:
        d.close()


def interleave(d: RealIngest, todo: list[str], max_bytes: int) -> None:
    s = Store(MemFs(), 800_000_000, max_segments=10_000, seg_bytes=256)
    c = UplinkClient(s, KID, KEY, max_bytes=max_bytes)
    written = {s.boot_seq}
    t = 800_000_000
    for k, step in enumerate(todo):
        t += 30
        if step == "fix":
            written.add(s.append_fix(t, Fix(t, 0, k, -k, None, k, None, 40, None, 5, 1, 3, 0))[0])
        elif step in ("event", "alert"):
            seq = s.append_event(
                R.EV_ZONE if step == "alert" else R.EV_STATUS, t, bytes([k & 255])
            )[0]
            written.add(seq)
            if step == "alert":
                c.alert(seq)
        else:
            body = c.request(t)
            if body is None:
                continue
            if step == "up_lost":
                c.on_failure(t)
                continue
            status, reply = d.handle(bytes(body), t)  # stored at the server
            assert status == 200, reply
            if step == "reply_lost":
                c.on_failure(t)
            else:
                assert c.on_reply(t, reply) == ACKED
        on_tag = {r[0] for r in s.read(1, 100_000, True)[0]}
        at_server = d.seqs()
        assert written <= on_tag | at_server, "a record is neither on the tag nor at the server"
    while c.due():
        t += 30
        assert c.on_reply(t, d.handle(bytes(c.request(t)), t)[1]) == ACKED
    assert d.seqs() == written
    assert d.acked() == s.next_seq - 1
