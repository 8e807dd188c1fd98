"""Verify a tag's sealed log (docs/evidence.md): a pulled folder of segment files or a server
export, against the tag's initial seal key and, if given, the server's anchors.

The seals are checked here with Python's `hmac`/`hashlib`, apart from the core's own code
(`tagcore.store.seal`); only the record's canonical bytes (`tagcore.store.seal.canon`) are
shared, as a format.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store import seal as S

from taghost.errors import UserError

Rec = tuple[int, Any]  # (kind, Fix | (t, data))

# What a finding means (the report prints it). BREAKS make the log fail verification.
MEANING = {
    "ALTERED": "a record's contents differ from what its seal says was written",
    "REORDERED": "a record holds what was sealed under another sequence number (records moved)",
    "MISSING": "a sealed record is not in the log and nothing accounts for it (dropped)",
    "INSERTED": "a record inside a sealed stretch that no seal lists (spliced in)",
    "SEAL_FORGED": "a seal does not verify under the key of its epoch",
    "FOREIGN": "a seal made by another tag: its frames were replayed into this log",
    "SEAL_MISSING": "a whole epoch's seal is gone and nothing accounts for it",
    "CHAIN_BROKEN": "a seal does not chain to the seal before it (spliced logs)",
    "SEAL_ORDER": "seals out of epoch order (records or seals moved)",
    "CONFLICT": "two different records under one sequence number",
    "TRUNCATED": "the log ends before what the server acknowledged (tail cut, or an earlier copy)",
    "ROLLED_BACK": "the log differs from what the server anchored for the same epoch: it was "
    "rolled back to an earlier copy and written again",
    # not breaks
    "THINNED": "fixes the store thinned to make room (every other fix; accounted by EV_THINNED)",
    "DROPPED_FOR_SPACE": "records given up when the partition was full (accounted by EV_DROPPED)",
    "UNSEALED_TAIL": "records after the last seal: written, but not yet protected by a seal",
    "HEAD_GONE": "sealed records before the log's start: deleted on the tag after the server "
    "acknowledged them (check them in the server's export)",
}
BREAKS = {
    "ALTERED",
    "REORDERED",
    "MISSING",
    "INSERTED",
    "SEAL_FORGED",
    "FOREIGN",
    "SEAL_MISSING",
    "CHAIN_BROKEN",
    "SEAL_ORDER",
    "CONFLICT",
    "TRUNCATED",
    "ROLLED_BACK",
}


@dataclass
class Finding:
    code: str
    seqs: list[int]
    detail: str = ""

    @property
    def is_break(self) -> bool:
        return self.code in BREAKS


@dataclass
class Anchors:
    """What the server holds: every seq up to `acked` and the seals it verified (epoch -> mac)."""

    acked: int = 0
    seals: dict[int, bytes] = field(default_factory=dict)


@dataclass
class Report:
    tag: str
    records: int = 0
    verified: int = 0
    seals: int = 0
    epochs: tuple[int, int] | None = None
    t_first: int | None = None
    t_last: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.is_break for f in self.findings)

    def verdict(self) -> str:
        if not self.ok:
            return "BROKEN"
        tail = self.seqs("UNSEALED_TAIL")
        if tail:
            return f"VERIFIED up to seq {tail[0] - 1}; {len(tail)} later records are not sealed yet"
        return "VERIFIED"

    def seqs(self, code: str) -> list[int]:
        return sorted(s for f in self.findings if f.code == code for s in f.seqs)

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def add(self, code: str, seqs: list[int], detail: str = "") -> None:
        for f in self.findings:
            if f.code == code and f.detail == detail:
                f.seqs.extend(seqs)
                return
        self.findings.append(Finding(code, list(seqs), detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "ok": self.ok,
            "records": self.records,
            "verified": self.verified,
            "seals": self.seals,
            "epochs": self.epochs,
            "from_t": self.t_first,
            "to_t": self.t_last,
            "findings": [
                {"code": f.code, "break": f.is_break, "seqs": f.seqs, "detail": f.detail}
                for f in self.findings
            ],
        }

    def text(self) -> str:
        from taghost.units import to_datetime

        def when(t: int | None) -> str:
            if t is None:
                return "-"
            return to_datetime(t).strftime("%Y-%m-%d %H:%M:%S UTC")

        lines = [
            f"opentag verification report, tag {self.tag}",
            f"result: {self.verdict()}",
            f"records in the log: {self.records}; verified against their seals: {self.verified}",
            f"seals: {self.seals}"
            + (f", epochs {self.epochs[0]}..{self.epochs[1]}" if self.epochs else ""),
            f"verified records from {when(self.t_first)} to {when(self.t_last)}",
        ]
        if not self.findings:
            lines.append("findings: none (every record is sealed, every seal chains)")
        for f in self.findings:
            s = f.seqs
            rng = (
                f"seq {s[0]}"
                if len(s) == 1
                else (f"{len(s)} records, seq {min(s)}..{max(s)}" if s else "")
            )
            kind = "BREAK" if f.is_break else "note"
            lines.append(f"{kind} {f.code}: " + "; ".join(x for x in (rng, f.detail) if x))
            lines.append(f"    means: {MEANING[f.code]}")
        return "\n".join(lines) + "\n"


def tag_of(k: bytes, seq: int, kind: int, v: Any) -> bytes:
    return hashlib.sha256(b"\x01" + k + bytes(S.canon(seq, kind, v, bytearray()))).digest()[:4]


def event_digest(entries: list[tuple[int, int, bytes]]) -> bytes:
    """SHA-256 over a seal's event entries (seq varint | tag), as the seal signs it."""
    h = hashlib.sha256()
    for s, is_fix, tg in entries:
        if not is_fix:
            b = bytearray()
            R.put_varint(b, s)
            h.update(bytes(b) + tg)
    return h.digest()[: S.MAC_LEN]


def mac_of(k: bytes, body: bytes) -> bytes:
    return hmac.new(k, S.SEAL_AAD + body, hashlib.sha256).digest()[: S.MAC_LEN]


class Keys:
    """k_e for any epoch from k0, evolving forward from the last one asked for."""

    def __init__(self, k0: bytes) -> None:
        self.k0 = k0
        self.e = 0
        self.k = k0

    def at(self, e: int) -> bytes:
        if e < self.e:
            self.e, self.k = 0, self.k0
        while self.e < e:
            self.k = hashlib.sha256(S.EVOLVE + self.k).digest()
            self.e += 1
        return self.k


# ---- reading logs ------------------------------------------------------------------------
def read_segments(folder: Path, report: Report | None = None) -> dict[int, Rec]:
    """Every record of every valid frame of the folder's segment files (s########), by seq."""
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder of store segments")
    names = sorted(p for p in folder.iterdir() if p.name.startswith("s") and len(p.name) == 9)
    if not names:
        raise UserError(f"{folder}: no store segment files (s00000000...)")
    return read_frames([p.read_bytes() for p in names], report)


def read_frames(blobs: list[bytes], report: Report | None = None) -> dict[int, Rec]:
    """Every record of the segments' bytes (in segment order) as the store's recovery takes
    them: valid frames whose seq continues the log; two different records under one seq are a
    CONFLICT."""
    recs: dict[int, Rec] = {}
    last = 0
    for data in blobs:
        i = 0
        while i < len(data):
            ln = R.check_frame(data, i, len(data))
            if not ln or not R.payload_ok(data, i, ln):
                i += 1
                continue
            s = R.frame_seq(data, i)
            if data[i + 1] == R.KIND_MARK:
                last = max(last, s)
            elif s > last:
                for seq, kind, v in R.frame_records(data, i, ln):
                    put(recs, seq, (kind, v), report)
                last = R.frame_last_seq(data, i)
            elif report is not None:
                # a frame the store's recovery skips: a merge's stale source (a cut between its
                # rename and its remove) repeats what was taken, less what thinning took since;
                # anything else out of order was put there
                for seq, kind, v in R.frame_records(data, i, ln):
                    old = recs.get(seq)
                    if (old is None and kind < R.EV_FIRST) or old == (kind, v):
                        continue
                    if old is not None and kind == R.EV_SEAL and _same_seal(old, v):
                        continue  # the seal before thinning took entries out of it
                    report.add("CONFLICT", [seq], "a frame out of order")
            i += ln
    return recs


def _same_seal(old: Rec, v: Any) -> bool:
    # one seal, before and after thinning took fix entries out: the signed head and mac agree
    if old[0] != R.EV_SEAL:
        return False
    a, b = S.parse(old[1][1]), S.parse(v[1])
    if a is None or b is None or a[9] != b[9]:
        return False
    return bytes(old[1][1][: a[9] + S.MAC_LEN]) == bytes(v[1][: b[9] + S.MAC_LEN])


def put(recs: dict[int, Rec], seq: int, rec: Rec, report: Report | None) -> None:
    old = recs.get(seq)
    if old is not None and old != rec and report is not None:
        report.add("CONFLICT", [seq])
    recs.setdefault(seq, rec)


def export_records(recs: dict[int, Rec]) -> list[dict[str, Any]]:
    """Records as JSON objects (the server export's `records`)."""
    out = []
    for seq in sorted(recs):
        kind, v = recs[seq]
        if kind == R.KIND_FIXES:
            out.append({"seq": seq, "kind": kind, "fix": list(v)})
        else:
            out.append({"seq": seq, "kind": kind, "t": v[0], "data": bytes(v[1]).hex()})
    return out


def import_records(rows: list[dict[str, Any]], report: Report | None = None) -> dict[int, Rec]:
    recs: dict[int, Rec] = {}
    try:
        for r in rows:
            if r["kind"] == R.KIND_FIXES:
                rec: Rec = (R.KIND_FIXES, Fix(*r["fix"]))
            else:
                rec = (int(r["kind"]), (int(r["t"]), bytes.fromhex(r["data"])))
            put(recs, int(r["seq"]), rec, report)
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"not an opentag export record: {e}") from None
    return recs


def anchors_from_json(d: dict[str, Any]) -> Anchors:
    try:
        return Anchors(
            int(d.get("acked", 0)),
            {int(e): bytes.fromhex(m) for e, m in d.get("seals", {}).items()},
        )
    except (TypeError, ValueError, AttributeError) as e:
        raise UserError(f"not an opentag anchors object: {e}") from None


def anchors_to_json(a: Anchors) -> dict[str, Any]:
    return {"acked": a.acked, "seals": {str(e): m.hex() for e, m in sorted(a.seals.items())}}


# ---- verifying ---------------------------------------------------------------------------
def _accounts(recs: dict[int, Rec], kind: int, seqs: set[int]) -> list[tuple[int, int, int]]:
    """(count, first, last) of every EV_THINNED / EV_DROPPED account among `seqs`."""
    out = []
    for s in sorted(seqs):
        k, v = recs[s]
        if k != kind:
            continue
        vals: list[int] = []
        d = v[1]
        i = 0
        try:
            while i < len(d) and len(vals) < 3:
                u, i = R.get_varint(d, i, len(d))
                vals.append(u)
        except ValueError:
            continue
        if len(vals) == 3:
            out.append((vals[0], vals[1], vals[2]))
    return out


def _inside(seq: int, accounts: list[tuple[int, int, int]]) -> bool:
    return any(lo <= seq <= hi for _, lo, hi in accounts)


def verify(
    recs: dict[int, Rec],
    k0: bytes,
    kid: bytes,
    anchors: Anchors | None = None,
    report: Report | None = None,
) -> Report:
    """Check every record and seal of `recs` (seq -> record); the report names what it finds."""
    rep = report or Report(kid.hex())
    keys = Keys(k0)
    absent: list[tuple[int, int]] = []  # (seq, is_fix) listed by a seal, not in the log
    compacted: list[tuple[int, int, int, int, int]] = []  # seal seq, first, last, fixes, epoch
    gaps: list[tuple[list[int], str]] = []  # seq ranges of epochs whose seals are gone
    data_seqs = [s for s, (k, _) in recs.items() if k != R.EV_SEAL]
    rep.records = len(data_seqs)
    start = min(data_seqs) if data_seqs else 0
    head_ok = anchors.acked if anchors is not None else start - 1  # below: deleted after an ack
    listed: set[int] = set()
    verified: list[int] = []
    prev: tuple[int, bytes, int] | None = None  # epoch, mac, last listed seq
    epochs: list[int] = []
    for sseq in sorted(s for s, (k, _) in recs.items() if k == R.EV_SEAL):
        data = recs[sseq][1][1]
        p = S.parse(data)
        if p is None:
            rep.add("SEAL_FORGED", [sseq], "not a seal's layout")
            continue
        skid, epoch, first, last, nfix, nev, evd, pmac, mac, signed, lst = p
        if skid != kid:
            rep.add("FOREIGN", [sseq], f"sealed by tag {skid.hex()}")
            listed.update(s for s, _, _ in lst)
            continue
        k = keys.at(epoch)
        if not hmac.compare_digest(mac_of(k, bytes(data[:signed])), mac):
            rep.add("SEAL_FORGED", [sseq], f"epoch {epoch}")
            continue
        rep.seals += 1
        epochs.append(epoch)
        if prev is not None:
            if epoch <= prev[0]:
                rep.add("SEAL_ORDER", [sseq], f"epoch {epoch} after epoch {prev[0]}")
            elif epoch == prev[0] + 1 and pmac != prev[1]:
                rep.add("CHAIN_BROKEN", [sseq], f"epoch {epoch}")
            elif epoch > prev[0] + 1:
                gap = [prev[2] + 1, first - 1]
                gaps.append((gap, f"epochs {prev[0] + 1}..{epoch - 1}"))
        elif anchors is not None and epoch > 0:
            am = anchors.seals.get(epoch - 1)
            if am is not None and am != pmac:
                rep.add("CHAIN_BROKEN", [sseq], f"epoch {epoch} vs the server's anchor")
        if anchors is not None and epoch in anchors.seals and anchors.seals[epoch] != mac:
            rep.add("ROLLED_BACK", [sseq], f"epoch {epoch}")
        by_tag = {tg: s for s, _, tg in lst}
        for s, is_fix, tg in lst:
            listed.add(s)
            r = recs.get(s)
            if r is None:
                absent.append((s, is_fix))
                continue
            if hmac.compare_digest(tag_of(k, s, r[0], r[1]), tg):
                verified.append(s)
                continue
            moved = [
                o for o in by_tag.values() if o != s and by_tag.get(tag_of(k, o, r[0], r[1])) == o
            ]
            if moved:
                rep.add("REORDERED", [s], f"holds what was sealed as seq {moved[0]}")
            else:
                rep.add("ALTERED", [s])
        # The signed counts: thinning takes the entries of the fixes it drops out of their
        # seal (never an event's); fewer entries than signed must be accounted as thinned.
        lfix = sum(f for _, f, _ in lst)
        if len(lst) - lfix != nev:
            code = "MISSING" if len(lst) - lfix < nev else "INSERTED"
            rep.add(code, [sseq], f"epoch {epoch} signed {nev} events, lists {len(lst) - lfix}")
        elif event_digest(lst) != evd:
            rep.add("ALTERED", [sseq], f"the event entries of epoch {epoch}'s seal")
        if lfix > nfix:
            rep.add("INSERTED", [sseq], f"epoch {epoch} signed {nfix} fixes, lists {lfix}")
        elif lfix < nfix:
            compacted.append((sseq, first, last, nfix - lfix, epoch))
        prev = (epoch, mac, last)
    # What went missing is accounted only by accounts that are themselves sealed and verified
    # (the store seals each at once): an account forged after the fact cannot excuse a drop.
    ok = set(verified)
    thinned = _accounts(recs, R.EV_THINNED, ok)
    dropped = _accounts(recs, R.EV_DROPPED, ok)
    budget = sum(a[0] for a in thinned)
    for gap, what in gaps:
        if _inside(gap[0], dropped):
            rep.add("DROPPED_FOR_SPACE", gap, what)
        else:
            rep.add("SEAL_MISSING", gap, what)
    for sseq, first, last, n, epoch in compacted:
        if any(lo <= last and first <= hi for _, lo, hi in thinned) and budget >= n:
            budget -= n
            rep.add("THINNED", [sseq], "entries taken out of their seals by thinning")
        else:
            rep.add("MISSING", [sseq], f"{n} fixes of epoch {epoch} taken out of its seal")
    for s, is_fix in absent:
        if _inside(s, dropped):
            rep.add("DROPPED_FOR_SPACE", [s])
        elif s <= head_ok:
            rep.add("HEAD_GONE", [s])
        elif is_fix and _inside(s, thinned) and budget > 0:
            budget -= 1
            rep.add("THINNED", [s])
        else:
            rep.add("MISSING", [s], "a fix" if is_fix else "an event")
    if epochs and min(epochs) > 0:
        rep.add(
            "HEAD_GONE",
            [],
            f"epochs 0..{min(epochs) - 1} are not in this log: deleted after the server took "
            "them, or given up for space (then DROPPED_FOR_SPACE says so)",
        )
    hi = prev[2] if prev else 0
    for s in sorted(data_seqs):
        if s in listed:
            continue
        if s < hi:
            rep.add("INSERTED", [s])
        else:
            rep.add("UNSEALED_TAIL", [s], "written after the last seal")
    if anchors is not None:
        last_seal = max(epochs) if epochs else -1
        top = max(anchors.seals) if anchors.seals else -1
        mx = max(recs) if recs else 0
        if top > last_seal or anchors.acked > mx:
            rep.add(
                "TRUNCATED",
                [mx],
                f"the log ends at epoch {last_seal}, seq {mx}; the server holds epoch {top}, "
                f"seq {anchors.acked}",
            )
    rep.verified = len(verified)
    rep.epochs = (min(epochs), max(epochs)) if epochs else None
    ts = [t_of(recs[s]) for s in verified]
    if ts:
        rep.t_first, rep.t_last = min(ts), max(ts)
    return rep


def t_of(r: Rec) -> int:
    """A record's time (the tag's clock, seconds since 2000)."""
    return int(r[1].t) if r[0] == R.KIND_FIXES else int(r[1][0])


# ---- the command ---------------------------------------------------------------------------
def read_export(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A server export: `records.json` (`seals.export_all`'s object), or an evidence bundle
    folder or zip holding one; (the export, every file of the bundle by name: {} for a lone
    records.json)."""
    import zipfile

    files: dict[str, bytes] = {}
    try:
        if path.is_dir():
            if not (path / "records.json").is_file():
                raise UserError(f"{path}: not an opentag export (no records.json in it)")
            files = {
                str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()
            }
            text = files["records.json"].decode()
        elif path.suffix.lower() == ".zip":  # an evidence bundle
            with zipfile.ZipFile(path) as z:
                files = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
            text = files["records.json"].decode()
        else:
            text = path.read_text()
        d = json.loads(text)
    except UserError:
        raise  # a ValueError too: not to be wrapped again below
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:  # BadZipFile: no ValueError
        raise UserError(f"{path}: not an opentag export ({e})") from None
    if not isinstance(d, dict) or "records" not in d:
        raise UserError(f"{path}: not an opentag export (no 'records')")
    return d, files


def load_input(path: Path, report: Report) -> tuple[dict[int, Rec], Anchors | None]:
    """A folder of segments, or a server export (records.json, or a bundle folder holding one)."""
    if path.is_dir() and not (path / "records.json").exists():
        return read_segments(path, report), None
    d, _ = read_export(path)
    a = anchors_from_json(d["anchors"]) if "anchors" in d else None
    return import_records(d["records"], report), a


def anchors_file(path: str) -> Anchors:
    """`--anchors`: the server's anchors as JSON, bare (`{"acked", "seals"}`) or inside an
    export (records.json, a bundle folder or zip: the only place the server writes them)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file or folder")
    if p.is_dir() or p.suffix.lower() == ".zip":
        d, _ = read_export(p)
    else:
        try:
            d = json.loads(p.read_text())
        except (OSError, ValueError) as e:
            raise UserError(f"{path}: not the server's anchors ({e})") from None
    if isinstance(d, dict) and "records" in d:
        if "anchors" not in d:
            raise UserError(f"{path}: an export without the server's anchors")
        d = d["anchors"]
    if not isinstance(d, dict) or not ({"acked", "seals"} & set(d)):
        # anchors_from_json reads a missing key as none: an unrelated file would pass as "no
        # anchors" and the report would claim they were checked
        raise UserError(f"{path}: not the server's anchors (no 'acked' or 'seals')")
    return anchors_from_json(d)


def k0_arg(text: str | None, path: str | None) -> bytes:
    """The initial seal key k0 from 64 hex digits or a file holding them (`opentag verify`,
    `opentag deploy`)."""
    if path:
        try:
            text = Path(path).read_text().strip()
        except OSError as e:
            raise UserError(f"{path}: {e.strerror}") from None
    try:
        k = bytes.fromhex(text or "")
    except ValueError:
        k = b""
    if len(k) != S.KEY_LEN:
        raise UserError(f"the initial seal key is {S.KEY_LEN} bytes as hex")
    return k


def cmd_verify(args: Any) -> int:
    from taghost.server.admin import AdminError, parse_tag

    try:
        kid = bytes.fromhex(parse_tag(args.tag))
    except AdminError as e:
        raise UserError(str(e)) from None
    k0 = k0_arg(args.key, args.key_file)
    path = Path(args.log)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    rep = Report(kid.hex())
    recs, anchors = load_input(path, rep)
    if args.anchors:
        anchors = anchors_file(args.anchors)
    verify(recs, k0, kid, anchors, rep)
    text = json.dumps(rep.to_json(), indent=1) + "\n" if args.json else rep.text()
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")
    return 0 if rep.ok else 1
