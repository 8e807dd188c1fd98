# What survives deep sleep but not power loss: packed for RTC memory (2 KB on the ESP32).
#
# The log (tagcore.store.log) is for what must survive power loss. RTC memory keeps, across a deep
# sleep, the fixes still buffered in RAM (so sleeping does not force a flash write) and the
# store's next sequence number (so a wake skips the full recovery scan). After power loss the
# RTC bytes fail their CRC and the store recovers from flash instead: those buffered fixes
# were never promised durable.
#
# Layout: b"RT1" | crc32 u32 of the rest | next_seq u32 | buf_seq u32 | buf_t i32 | frame bytes
#
# The state is single-use: resume() spoils the magic of the bytearray it was given, and the shell
# writes that back to RTC memory before the store hands out a seq. Bytes kept in RTC memory
# across a watchdog reset would otherwise bring back a sequence already handed out since.
import binascii

from tagcore.compat import const
from tagcore.store import record as R

RTC_BYTES = const(2048)
_HEAD = const(19)


def _u32(b, i):
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)


def _put32(b, i, v):
    v &= 0xFFFFFFFF
    b[i] = v & 0xFF
    b[i + 1] = (v >> 8) & 0xFF
    b[i + 2] = (v >> 16) & 0xFF
    b[i + 3] = v >> 24


def pack(store):
    """Bytes for RTC memory, or None if the buffered fixes do not fit (flush them first)."""
    next_seq, buf_seq, buf_t, buf = store.ram_state()
    fr = R.fixes_frame(buf_seq, buf) if buf else b""
    if _HEAD + len(fr) > RTC_BYTES:
        return None
    b = bytearray(_HEAD + len(fr))
    b[0:3] = b"RT1"
    _put32(b, 7, next_seq)
    _put32(b, 11, buf_seq if buf else next_seq)
    _put32(b, 15, buf_t)
    b[_HEAD:] = fr
    _put32(b, 3, binascii.crc32(memoryview(b)[7:]))
    return b


def unpack(b):
    """(next_seq, buf_seq, buf_t, fixes) from RTC bytes, or None if they are not ours/damaged.
    Raises MemoryError if the fixes do not fit the heap (that is not damage)."""
    if len(b) < _HEAD or bytes(b[0:3]) != b"RT1":
        return None
    if binascii.crc32(memoryview(b)[7:]) & 0xFFFFFFFF != _u32(b, 3):
        return None
    t = _u32(b, 15)
    if t >= 0x80000000:
        t -= 0x100000000
    fixes = []
    if len(b) > _HEAD:
        ln = R.check_frame(b, _HEAD, len(b))
        if ln != len(b) - _HEAD or b[_HEAD + 1] != R.KIND_FIXES or not R.payload_ok(b, _HEAD, ln):
            return None
        fixes = [r[2] for r in R.frame_records(b, _HEAD, ln)]
    return _u32(b, 7), _u32(b, 11), t, fixes


def resume(store, b):
    """Called by Store.recover after a deep-sleep wake (Store(fs, now, rtc=bytearray)): restore
    the RAM buffer and sequence. True if the RTC state was valid and consistent with the log;
    then `b` is spoilt in place (single use: write it back to RTC memory). Read-only bytes are
    refused: they could not be spoilt, so they could be resumed twice."""
    if not isinstance(b, bytearray):
        store._count("rtc_readonly")
        return False
    try:
        st = unpack(b)
    except MemoryError:
        store._count("rtc_nomem")
        return False
    if st is None:
        return False
    next_seq, buf_seq, buf_t, fixes = st
    if buf_seq <= store.durable_seq() or next_seq != buf_seq + len(fixes) or store.ram_state()[3]:
        return False  # stale: flash moved on since this was saved
    b[0] = 0
    store.resume_ram(next_seq, buf_seq, buf_t, fixes)
    return True
