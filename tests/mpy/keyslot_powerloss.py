# Power-loss driver for the seal's key slot on a raw partition (tagcore.store.keyslot) over the
# NOR-flash fake (fake_machine/esp32.py). A run provisions k0 and saves STEPS epoch steps as the
# sealer does (k_{e+1} = evolve(k_e)); for each crash point N (every program and erase of the
# run) it runs on a fresh chip until the power goes, reboots (a new slot object loads), saves
# two more steps, and reports what a chip reader could still read.
# Usage: micropython keyslot_powerloss.py NBLOCKS STEPS TEAR_NUM TEAR_DEN
# Prints "OPS n ERASES e..." for the uncut run, "STEP e ok valid leak" after each completed save
# of it, then per crash point "CUT n done loaded damaged valid leak after_ok after_leak".
# done: the last epoch whose save returned True before the cut (-1: none); loaded: the epoch
# the reboot loads (-1: none); valid: blocks holding a valid record; leak: the most bytes of
# any other epoch's key still readable on the chip.
import sys

import esp32
from tagcore.store import keyslot as KS
from tagcore.store import seal as S

LABEL = "sealkey"
K0 = bytes(range(32))
NBLK = int(sys.argv[1])
STEPS = int(sys.argv[2])
TEAR = (int(sys.argv[3]), int(sys.argv[4]))

KEYS = [K0]
for _ in range(STEPS + 3):
    KEYS.append(S.evolve(KEYS[-1]))


def state(e):
    return S.pack_slot(e, 10 * e, KEYS[e], bytes([e & 0xFF]) * S.MAC_LEN)


def fresh():
    esp32.TABLE.clear()
    fl = esp32.add_partition(LABEL, NBLK * esp32.SECTOR)
    fl.tear = TEAR
    return fl


def slot():
    return KS.PartSlot(esp32.Partition.find(esp32.Partition.TYPE_DATA, label=LABEL)[0])


def valid(sl):
    return sum(1 for b in range(sl.nblocks) if sl._read(b) >= 0)


def leak(fl, keep):
    return max(fl.readable(KEYS[e]) for e in range(len(KEYS)) if e != keep)


DONE = [-1]


def run(fl, e0, e1, sl, report):
    for e in range(e0, e1):
        ok = S.provision(sl, K0) if e == 0 else sl.save(state(e))
        if ok:
            DONE[0] = e
        if report:
            print("STEP", e, int(ok), valid(sl), leak(fl, e))


fl = fresh()
run(fl, 0, STEPS + 1, slot(), True)
print("OPS", fl.ops, "ERASES", *fl.erases)
total = fl.ops

for cut in range(1, total + 1):
    fl = fresh()
    fl.cut_at = cut
    DONE[0] = -1
    try:
        run(fl, 0, STEPS + 1, slot(), False)
    except esp32.PowerCut:
        pass
    fl.revive()
    sl = slot()
    got = S.unpack_slot(sl.load())
    loaded = -1 if got is None else got[0]
    if got is not None and got[2] != KEYS[loaded]:
        loaded = -2  # a record whose key is not its epoch's
    v = valid(sl)
    lk = leak(fl, loaded)
    nxt = loaded + 1 if loaded >= 0 else 0
    DONE2 = DONE[0]
    run(fl, nxt, nxt + 2, sl, False)
    after_ok = int(DONE[0] == nxt + 1)
    print("CUT", cut, DONE2, loaded, int(sl.damaged), v, lk, after_ok, leak(fl, nxt + 1))
