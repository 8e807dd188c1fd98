# Lockstep driver: runs the core app (tagcore.app.app.TagApp, and the core under it) inside
# MicroPython, driven over stdin/stdout by tagsim.runtime.MicroPythonTag. Portable, so CPython
# can run it too.
#
# Requests, one header line each (binary payload after it where noted):
#   c CONFIG NOW [DIR [TABLE [ZONES [UPLINK [BOARD [COLD]]]]]]   configure and boot: CONFIG is
#                    the tag configuration
#                    blob in hex (tagcore.app.config, loaded as the device loads it); the
#                    flash log lives in DIR (real files, as littlefs on the device: off the heap),
#                    else in RAM; TABLE: a beacon identifier window file: run
#                    tagcore.proximity.monitor on it; ZONES: a zone blob file: run
#                    tagcore.zones.monitor on it ("-": none); BOARD: the
#                    board profile (JSON): the receiver driver and energy model (gnss_plan 1);
#                    COLD: its worst field cold TTFF, s (the fixed plan's cap after a failure)
#   w NOW            wake            u NOW N1 .. Nk   k UART chunks (N1+..+Nk bytes follow), idle
#   s NOW K DONE     K lines "ADDR RSSI ADVHEX" follow: scan results; DONE 1: the scan ended
#   v NOW LAT LON ACC   the victim's position (from the uplink)
#   b NOW PCT        battery         t NOW KIND      tamper          l NOW UP   link up/down
#   r NOW [TABLE [ZONES [UPLINK [BOARD [COLD]]]]]   reboot: a new app over the same flash, cores
#                    built afresh (UPLINK, also the 'c' request's 7th field: "TAGIDHEX:KEYHEX",
#                    the tag's uplink client (tagcore.uplink.appseam) sends to a server; "-": none;
#                    KEYHEX empty: no client; ":K0HEX" after it: the store seals its log with
#                    the initial key K0, the tag id as the seals' kid (tagcore.store.seal);
#                    BOARD, the 'c' request's 8th: the board profile for the model plan)
#   y NOW LEN        the server's reply to the uplink request (LEN bytes follow)
#   n NOW            the uplink request failed (lost, timed out, refused)
#   q                quit
# Reply to each: "= GNSS WANTSCAN WAKEAT SCANMS N LISTEN DEEP NA [LEN]" (DEEP 1: the MCU may
# deep-sleep from the request's NOW until WAKEAT, TagApp.may_deepsleep), then NA receiver actions
# ("u HEX" bytes to write, "r 1|0" the rail on/off), then N event lines (fields joined by
# spaces), then, if LEN is there, the LEN bytes of a new uplink request for the shell to send.
# A MemoryError anywhere is answered "! MemoryError WHERE" (the tag on its board would die
# there), then the driver exits.
import os
import sys


def _mount_romfs():
    # The core deployed as a ROMFS image (core.romfs beside the driver): mounted at /rom before
    # anything imports it, so its bytecode runs in place (on the device the image is flash).
    try:
        n = os.stat("core.romfs")[6]
    except OSError:
        return
    import vfs  # type: ignore[import-not-found]

    img = bytearray(n)  # first, one block: the heap beyond it is the board's
    with open("core.romfs", "rb") as f:
        f.readinto(img)
    vfs.mount(vfs.VfsRom(img), "/rom")  # type: ignore[attr-defined]
    sys.path.insert(0, "/rom")


_mount_romfs()

import binascii  # noqa: E402
import gc  # noqa: E402


def _arg(a, k):
    # Optional file argument k of a request: its path, or None when absent or "-".
    return a[k].decode() if len(a) > k and a[k] != b"-" else None


def zones(path):
    # The zone monitor over the blob file, as the device loads it from flash at boot.
    if path is None:
        return None
    from tagcore.zones.monitor import ZoneMonitor

    with open(path, "rb") as f:
        m = ZoneMonitor(f.read())
    if m.error is not None:
        raise ValueError("zone blob refused: " + m.error)
    return m


def proximity(path):
    if path is None:
        return None
    from tagcore.proximity.idtable import IdTable
    from tagcore.proximity.monitor import Profile, Proximity

    table = IdTable()
    with open(path, "rb") as f:
        table.load(f.read())
    return Proximity(table, Profile())


def boot(a):
    """The tag from a 'c' request (which must come first)."""
    if len(a) > 3:  # first, while the heap is in one piece: the flash log on real files
        from tagcore.store.osfs import OsFs

        fs = OsFs(a[3].decode())
    else:  # only then: a module costs heap
        from tagkit.memfs import MemFs

        fs = MemFs()  # type: ignore[assignment]  # the store takes either: same four calls
    from tagcore.app import config

    cfg, counts = config.load(binascii.unhexlify(a[1]))
    if counts:
        raise ValueError("tag configuration refused: " + repr(counts))
    config.unload()  # the codec's work is done: a board without PSRAM needs the heap
    del config
    gc.collect()
    zm = zones(_arg(a, 5))  # then the zones, while the heap is still in one piece
    prox = proximity(_arg(a, 4))
    cold = int(a[8]) if len(a) > 8 else 0
    return cfg, fs, app(cfg, fs, int(a[2]), zm, prox, _up(a, 6), _arg(a, 7), cold)


def gnss(cfg, path):
    # The board's receiver driver and energy model, only for the model plan (they cost heap).
    if path is None or not cfg.gnss_plan:
        return None
    import json

    from tagcore.gnss.profile import gnss_for

    with open(path) as f:
        doc = json.load(f)
    g = gnss_for(doc, cfg.battery_mah)
    doc = None
    gc.collect()
    return g


def app(cfg, fs, now, zm, prox, up=None, board=None, cold=0):
    # The zones' and the proximity core's load garbage goes before the app's modules load:
    # left, the modules load around it and the store's 4 KB buffer found no block, so
    # beacon_indoor needed 112 KB, 96 KB with this collection (tests/test_sim_heap.py).
    gc.collect()
    from tagcore.app.app import TagApp

    ids = up.split(b":") if up is not None else []
    sl = None
    if len(ids) > 2:
        from tagkit.simseal import sealer

        sl = sealer(fs, binascii.unhexlify(ids[0]), binascii.unhexlify(ids[2]))
    tag = TagApp(cfg, fs, now, zm, prox, sealer=sl, gnss=gnss(cfg, board), cold_s=cold)
    if ids and ids[1]:  # "TAGIDHEX:KEYHEX": the real client, as the device shell has it
        from tagcore.uplink.appseam import AppClient

        tid, key = ids[0], ids[1]
        tag.uplink = AppClient(tag.store, binascii.unhexlify(tid), binascii.unhexlify(key))
    return tag


def _up(a, k):
    return a[k] if len(a) > k and a[k] != b"-" else None


_sent = [None]  # the uplink request last handed to the shell (each goes out once)


def _trace(e):
    # Where the MemoryError happened, to stderr (best effort: printing needs heap too). Not to
    # stdout (print_exception's default): the reply stream would read it as a crash.
    try:
        sys.print_exception(e, sys.stderr)  # type: ignore[attr-defined,arg-type]
    except MemoryError:
        pass


def reply(out, tag, now):
    ev = tag.take_events()
    acts = tag.take_gnss_actions()
    req = tag.uplink_request
    new = req is not None and req is not _sent[0]
    _sent[0] = req
    deep = tag.may_deepsleep(now)
    head = (tag.gnss_on, tag.want_scan, tag.wake_at, tag.scan_ms, len(ev), tag.gnss_listen, deep)
    out.write("= %d %d %d %d %d %d %d %d" % (head + (len(acts),)))  # noqa: UP031, RUF005
    out.write(" %d\n" % len(req) if new else "\n")  # noqa: UP031
    for k in acts:
        if k[0] == "uart":
            out.write("u " + binascii.hexlify(k[1]).decode() + "\n")
        else:
            out.write("r %d\n" % (k[1] == tag.power.rail_on))  # noqa: UP031
    for e in ev:
        out.write(" ".join([str(x) for x in e]))
        out.write("\n")
    if new:
        out.flush()
        sys.stdout.buffer.write(req)
    out.flush()


def main():
    inp = sys.stdin.buffer
    out = sys.stdout
    a = inp.readline().split()
    if not a or a[0] != b"c":
        raise ValueError("the first request must be 'c' (configure and boot)")
    try:
        cfg, fs, tag = boot(a)
    except MemoryError as e:
        out.write("! MemoryError boot\n")  # a constant: no allocation needed
        out.flush()
        _trace(e)
        out.flush()
        return
    reply(out, tag, int(a[2]))
    while True:
        a = inp.readline().split()
        if not a or a[0] == b"q":
            return
        if a[0] == b"r":  # a reboot: none of the old app's RAM survives it on the device
            tag = None
            _sent[0] = None  # (a view of the old client's buffer)
        try:
            tag = serve(inp, a, cfg, fs, tag)
        except MemoryError as e:
            tag = None
            gc.collect()
            _trace(e)
            out.write("! MemoryError " + a[0].decode() + "\n")
            out.flush()
            return
        reply(out, tag, int(a[1]))


def serve(inp, a, cfg, fs, tag):
    """Carry out one request; returns the tag (a new one after a reboot)."""
    op = a[0]
    now = int(a[1])
    if op == b"r":  # reboot: RAM is gone, the flash stays (identifier window, zone blob)
        tag = None
        gc.collect()
        zm = zones(_arg(a, 3))
        cold = int(a[6]) if len(a) > 6 else 0
        tag = app(cfg, fs, now, zm, proximity(_arg(a, 2)), _up(a, 4), _arg(a, 5), cold)
    elif op == b"w":
        tag.wake(now)
    elif op == b"u":
        for k in range(2, len(a)):
            n = int(a[k])
            data = inp.read(n)
            while len(data) < n:
                data += inp.read(n - len(data))
            tag.uart(now, data)
        tag.uart_idle(now)
    elif op == b"s":
        for _ in range(int(a[2])):
            r = inp.readline().split()
            tag.scan_result(now, r[0].decode(), int(r[1]), binascii.unhexlify(r[2]))
        if a[3] == b"1":
            tag.scan_done(now)
    elif op == b"v":
        tag.victim(now, int(a[2]), int(a[3]), int(a[4]))
    elif op == b"b":
        tag.battery(now, int(a[2]))
    elif op == b"t":
        tag.tamper(now, a[2].decode())
    elif op == b"l":
        tag.link(now, a[2] == b"1")
    elif op == b"y":
        n = int(a[2])
        data = inp.read(n)
        while len(data) < n:
            data += inp.read(n - len(data))
        tag.uplink_reply(now, data)
    elif op == b"n":
        tag.uplink_failed(now)
    return tag


main()
