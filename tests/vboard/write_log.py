# Run on the virtual board (mpremote exec): the real store writes a day's worth of log into /log
# as the tag would: fixes every 10 s along a line, a zone breach with its evidence, low battery.
from tagcore import events as E
from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs
from tagcore.zones import monitor as Z

T0 = 850000000
N_FIXES = 1000  # tests/test_hosttools_pull.py sets its own
SEAL_TAG = ""  # a tag id (hex): seal as the device shell does, from the deployed key partition
sealer = None
if SEAL_TAG:
    import binascii

    from tagdevice import prov

    slot, note = prov.key_slot(OsFs("/log"), "sealkey")  # the board's key partition
    print("slot", note)
    sealer, why = prov.sealer(OsFs("/log"), binascii.unhexlify(SEAL_TAG), slot)
    print("sealer", why)
s = Store(OsFs("/log"), now=T0, sealer=sealer)
fixes = []
for k in range(N_FIXES):
    f = Fix(
        T0 + k * 10, 0, 51500000 + k * 90, -120000 + k * 140, 300, 120, 9000, 50, 90, 8, 1, 3, 0
    )
    fixes.append(f)
    s.append_fix(f.t, f)
    if k == N_FIXES // 2:
        ev, d = E.encode(Z.zone_alert(Z.A_BREACH, f.t, 3, 1, 0, tuple(fixes[-2:])))
        s.append_event(ev, f.t, d)
s.append_event(R.EV_LOW_BATTERY, T0 + N_FIXES * 10, bytes((15,)))
s.flush()
print("wrote", N_FIXES, "fixes", len(s.segs), "segments")
