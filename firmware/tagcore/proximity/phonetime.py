# The time the beacon learns from the victim's phone: the minimal thing a companion app (not
# ours) must do, and the beacon's rule for taking it. Shared, as beaconid is, by the beacon
# (firmware/beacon/app.py: PhoneTime listens, ClockKeeper sets the RTC and keeps `last` across
# power cuts), the host and the tests; the tag never loads it. Pure: no radio, clock or file.
#
# The phone advertises, while its app is open (after a battery swap, at a visit), a frame the
# beacon hears in its short listening windows (beacon.app: a minute after boot, 2 s every
# 30 min); the beacon stays non-connectable (no pairing, no GATT server, nothing to connect to):
#   14 FF FF FF 02 <t: u32le> <mac: 12 bytes>   manufacturer data, company 0xFFFF, format 2
#   t   = the phone's UTC seconds since 2000-01-01 (network time)
#   mac = HMAC-SHA256(clock_key, b"opentag-clock-v1" | u32le(t))[:12]
#   clock_key = HMAC-SHA256(secret, b"opentag-clock-key-v1")[:16]
# The phone holds clock_key, never the secret: a seized phone can set the beacon's clock but
# cannot compute its identifiers (it cannot follow the victim).
#
# Taken only if the MAC is right, t is newer than the last time taken (a replayed frame is
# stale), and t is not earlier than the beacon's clock by more than the beacon's own clock can
# have gained since it was last set (DRIFT_PPM, the tag's Profile.drift_ppm) plus SLACK_S: a
# frame recorded and played back later can set the clock back by that much and no more.
# Forward, any amount (a beacon whose saved clock was lost restarts in 2000).
from tagcore.compat import const
from tagcore.mac import ct_equal, hmac_sha256
from tagcore.proximity.advdata import find_frame

FORMAT = const(2)
MAC_LEN = const(12)
FRAME_LEN = const(20)  # the AD length byte: type, company (2), format, t (4), mac (12)
DRIFT_PPM = const(60000)  # 6 % a day: what the tag's Profile.drift_ppm allows a beacon
SLACK_S = const(60)  # the frame's age when heard (the phone renews it every second) and more
_LABEL = b"opentag-clock-v1"


def clock_key(secret):
    """The 16-byte key the phone holds (derived from the beacon's secret, one way)."""
    return hmac_sha256(secret, b"opentag-clock-key-v1")[:16]


def time_frame(key, t):
    """The advertising data the phone sends for its time t, signed with clock_key `key`."""
    b = bytearray(b"\x02\x01\x06\x00\xff\xff\xff\x00")  # the flags a phone's stack puts first
    b[3] = FRAME_LEN
    b[7] = FORMAT
    for s in (0, 8, 16, 24):
        b.append((t >> s) & 0xFF)
    b.extend(time_mac(key, t))
    return bytes(b)


def time_mac(key, t):
    """The frame's MAC of time t under clock_key `key`."""
    msg = bytearray(_LABEL)
    for s in (0, 8, 16, 24):
        msg.append((t >> s) & 0xFF)
    return hmac_sha256(key, msg)[:MAC_LEN]


class PhoneClock:
    """Decides whether a phone's time frame may set the beacon's clock. `last` is the newest
    phone time taken (0: never); the caller keeps it across power cuts (ClockKeeper)."""

    def __init__(self, secret, last=0):
        self.key = clock_key(secret)
        self.last = last
        self.counts = {}

    def _count(self, k):
        self.counts[k] = self.counts.get(k, 0) + 1

    def offer(self, now, adv):
        """A scan report's advertising data `adv`, heard at beacon time `now`. Returns the time
        to set the clock to, or -1 (the reason counted: not_time, bad_mac, stale, backwards,
        and advdata's for malformed reports). Never raises on bad bytes."""
        try:
            i = find_frame(adv, self.counts, FORMAT, FRAME_LEN)
        except (TypeError, ValueError, IndexError):
            self._count("adv_type")
            return -1
        if i < 0:
            return -1
        t = adv[i] | (adv[i + 1] << 8) | (adv[i + 2] << 16) | (adv[i + 3] << 24)
        if not ct_equal(bytes(adv[i + 4 : i + 4 + MAC_LEN]), time_mac(self.key, t)):
            self._count("bad_mac")
            return -1
        if t <= self.last:
            self._count("stale")
            return -1
        if now - t > SLACK_S + (now - self.last) * DRIFT_PPM // 1000000:
            self._count("backwards")
            return -1
        self.last = t
        self._count("set")
        return t
