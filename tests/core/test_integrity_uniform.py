# The uniform-C/N0 spoofing rule (tagcore.gnss.integrity) at the levels a receiver in power save
# reports: the spread is the signature, the mean only keeps out skies at the receiver's margin.
# Both runtimes.
from tagcore.gnss import integrity as I
from test_integrity_rules import T0, Tag, epoch

# the rules' test module is loaded with this one: its heap (test_integrity_rules.MPY_HEAP)
MPY_HEAP = 73728


def _uniform_at(level, epochs):
    tag = Tag()
    sky = tuple(level + d for d in (0, 1, 0, -1, 0, 1, 0, 0))  # one transmitter, +-1 dB-Hz
    for k in range(epochs):
        tag.second(T0 + k, epoch(T0 + k, sky))
    return tag


def test_a_spoofer_seen_in_power_save_is_spoofing():
    # 45 dB-Hz at the antenna, 36-38 reported in cyclic tracking: still one transmitter
    for level in (36, 37, 38, 40):
        tag = _uniform_at(level, I.UNI_EPOCHS)
        assert tag.kinds() == [I.K_SPOOFING], (level, tag.kinds())


def test_a_uniform_sky_at_the_receivers_margin_is_not_spoofing():
    for level in (25, 28, 30, 33):
        tag = _uniform_at(level, 3 * I.UNI_EPOCHS)
        assert tag.events == [], (level, tag.kinds())
