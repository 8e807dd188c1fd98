# Wear of the seal key slot on its partition (bench/bench_keyslot.py): SAVES epoch steps through
# tagcore.store.keyslot.PartSlot on the NOR fake of NBLOCKS blocks, after provisioning.
# Prints "ERASES e0 e1 ..." (per block) and "OPS n" (programs and erases in all).
import sys

import esp32
from tagcore.store import keyslot as KS
from tagcore.store import seal as S

NBLK = int(sys.argv[1])
SAVES = int(sys.argv[2])
fl = esp32.add_partition("sealkey", NBLK * esp32.SECTOR, track=False)
sl = KS.PartSlot(esp32.Partition.find(esp32.Partition.TYPE_DATA, label="sealkey")[0])
k = bytes(range(32))
S.provision(sl, k)
for e in range(1, SAVES + 1):
    k = S.evolve(k)
    if not sl.save(S.pack_slot(e, e, k, bytes(16))):
        raise SystemExit("save failed")
print("ERASES", *fl.erases)
print("OPS", fl.ops)
