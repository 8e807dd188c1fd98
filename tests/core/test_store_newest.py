# Store.newest_fix_t: the time of the newest fix held (the reader's date floor at boot).
from test_store import MemFs  # noqa: I001
from tagcore.store import record as R
from tagcore.fix import Fix
from tagcore.store.log import Store

MPY_HEAP = 204800  # test_store, imported for its MemFs, is large
T = 825753600  # 2026-03-02


def fx(t):
    return Fix(t, 0, 52520000, 13370000, 350, 140, 9000, 50, 90, 9, 1, 3, 2)


def test_newest_fix_time_survives_a_reboot_and_ignores_events():
    fs = MemFs()
    st = Store(fs, T, seg_bytes=256)
    assert st.newest_fix_t() is None
    for k in range(40):
        st.append_fix(T + 60 * k, fx(T + 60 * k))
    assert st.newest_fix_t() == T + 60 * 39  # the RAM buffer counts
    st.flush()
    st.append_event(R.EV_TAMPER, T + 5000, b"\x01")  # events after the fixes
    st2 = Store(fs, T + 6000, seg_bytes=256)  # reboot: only flash is left
    assert len(st2.segs) > 2
    assert st2.newest_fix_t() == T + 60 * 39


def test_newest_fix_time_of_a_store_without_fixes():
    fs = MemFs()
    Store(fs, T).append_event(R.EV_TAMPER, T + 1, b"\x01")
    assert Store(fs, T + 2).newest_fix_t() is None


def test_a_fix_frame_inside_a_damaged_event_is_not_the_newest_fix():
    # the fixes the index holds, not frame-shaped bytes in an event's data that a flipped bit
    # exposed: they would raise the reader's date floor past every real fix
    fs = MemFs()
    st = Store(fs, T, reserve=0)
    for k in range(8):
        st.append_fix(T + 60 * k, fx(T + 60 * k))
    st.flush()
    inner = R.fixes_frame(0x7FFFFFF0, [fx(T + 10**8)])
    evil = st.append_event(R.EV_STATUS, T + 500, bytes(inner))[0]
    seg = fs.files[sorted(n for n in fs.files if n[0] == "s")[-1]]
    i = 0
    while R.frame_seq(seg, i) != evil:
        i += R.check_frame(seg, i, len(seg))
    seg[i + R.check_frame(seg, i, len(seg)) - 1] ^= 1  # the event's CRC
    st2 = Store(fs, T + 600, reserve=0)
    assert st2.newest_fix_t() == T + 60 * 7
