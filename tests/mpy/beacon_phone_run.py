# The beacon learns the time from the victim's phone (tagcore.proximity.phonetime,
# beacon.app.PhoneTime) on a simulated air: the phone advertises its signed time among other
# advertisers; the beacon's listening window hears it, and the rule takes or refuses each
# frame. Prints one line a case: the time set (-1: refused), the reports heard, the RTC
# settings made, and the reasons counted.
# Usage: beacon_phone_run.py FAKE_DIR CLOCK_FILE
import os
import sys

sys.path.insert(0, sys.argv[1])
import bluetooth  # the fake, found through the path above
import machine
from beacon.app import ClockKeeper, PhoneTime
from tagcore.proximity.phonetime import clock_key, time_frame

SECRET = b"victim-beacon-secret-0123456789a"
T = 830000000  # the phone's (true) time at the first frame
path = sys.argv[2]
try:
    os.remove(path)
except OSError:
    pass
key = clock_key(SECRET)

beacon = bluetooth.BLE()
beacon.active(True)
phone = bluetooth.BLE()
phone.active(True)
other = bluetooth.BLE()  # someone's earbuds, advertising faster than the phone
other.active(True)
other.gap_advertise(20000, b"\x02\x01\x1a\x0a\xff\x4c\x00\x10\x05\x01\x18\x00\x00\x00")

keeper = ClockKeeper(path)
keeper.restore(T - 2700)
pt = PhoneTime(beacon, SECRET, keeper)


def over_air(beacon_now, frame, boot=False):
    # The phone advertises `frame` every 100 ms; the beacon opens a window and decides.
    machine.SET.clear()
    phone.gap_advertise(100000, frame)
    pt.next_listen = 0
    pt.listen(beacon_now, boot)
    heard = pt.heard
    bluetooth.air_run(0, 2000)
    t = pt.poll(beacon_now)
    phone.gap_advertise(None)
    return t, pt.heard - heard


def case(name, beacon_now, frame):
    t, heard = over_air(beacon_now, frame)
    print(name, t, heard, len(machine.SET), sorted(pt.clock.counts.items()))


# A battery swap left the beacon 45 min late: the phone's frame sets it, at boot.
t, heard = over_air(T - 2700, time_frame(key, T), boot=True)
print("boot", t, heard, len(machine.SET), beacon.scan is None)
print("next_listen", pt.next_listen - T)  # counted on the clock the phone set
case("replayed", T + 60, time_frame(key, T))  # the same frame again: stale
case("older", T + 60, time_frame(key, T - 30))  # authentic but older than the last taken
case("wrong_key", T + 60, time_frame(clock_key(b"another-beacon-secret-000000000"), T + 60))
forged = bytearray(time_frame(key, T + 60))
forged[8] ^= 1  # the time changed, the MAC kept
case("forged", T + 60, bytes(forged))
case("truncated", T + 60, time_frame(key, T + 60)[:-1])
# A day on, the beacon gained 1.5 h: the phone sets it back (within 6 % a day + 60 s)...
case("back_1_5h", T + 86400 + 5400, time_frame(key, T + 86400))
# ...but a frame recorded now and played back 3 h later cannot set it 3 h back.
case("back_3h", T + 86400 + 3 * 3600, time_frame(key, T + 86400 + 60))
case("forward_3h", T + 90000, time_frame(key, T + 90000 + 3 * 3600))
# After a power cut the newest phone time taken is restored: the old frame is still stale.
k2 = ClockKeeper(path)
k2.restore(5)
pt2 = PhoneTime(bluetooth.BLE(), SECRET, k2)
print("after_cut", pt2.clock.last, pt2.clock.offer(T + 90000, time_frame(key, T + 86400)))
with open(path) as f:
    print("file", f.read())
