# One episode is one alert (tagcore.gnss.integrity K_MORE): a second detector naming an episode
# already alerted stores evidence of it, not a new alert. Both runtimes (the rules' own module
# is at the 64 KB heap's edge: these are beside it).
from tagcore.gnss import integrity as I
from test_integrity_rules import SKY, T0, UNIFORM, Tag, epoch, evidence

# the rules' test module is loaded with this one: its heap (test_integrity_rules.MPY_HEAP)
MPY_HEAP = 73728


def _rx_jammed(g, n=2):
    for _ in range(n):
        g.rx((1, 3, -1, 210, 900))  # MON-RF: critical


def test_one_jamming_episode_is_one_alert_whichever_detector_names_it_first():
    # The receiver's flag, then the C/N0 collapse (a jammed M10 on the model plan): one alert;
    # the collapse is stored as evidence of the same episode (K_MORE, its kind next)
    for flag_first in (True, False):
        tag = Tag()
        for k in range(30):
            tag.second(T0 + k, epoch(T0 + k, SKY))
        if flag_first:
            _rx_jammed(tag.g)
        for k in range(30, 30 + I.HOLD_S + 5):
            tag.second(T0 + k, epoch(T0 + k, (0,) * 8))
            if not flag_first and k == 30 + I.HOLD_S + 2:
                tag.g.now = T0 + k
                _rx_jammed(tag.g, 4)  # more reports: still one piece of evidence
                tag.second(T0 + k, b"")
        alerts = [k for k in tag.kinds() if I.Integrity().alert(k)]
        assert len(alerts) == 1, tag.kinds()
        more = [e for e in tag.events if e[0] == I.K_MORE]
        assert len(more) == 1, tag.kinds()
        later = I.K_JAMMING if flag_first else I.K_RX_JAMMING
        assert evidence(more[0])[:2] == [I.K_MORE, later]
        tag.second(T0 + 300, epoch(T0 + 300, SKY))  # signals back: the episode ends
        assert tag.kinds()[-1] == I.K_END
        tag.g.rx((1, 1, -1, 5, 3990))  # the receiver says all clear, then critical again
        _rx_jammed(tag.g)  # a new episode: a new alert
        tag.second(T0 + 301, b"")
        assert tag.kinds()[-1] == I.K_RX_JAMMING


def test_a_receiver_flag_episode_ends_when_the_receiver_says_all_clear():
    g = I.Integrity()
    g.now = T0
    _rx_jammed(g)
    assert g.pop()[0] == I.K_RX_JAMMING
    _rx_jammed(g, 3)  # still critical: the same episode, nothing new
    assert g.pop() is None
    g.rx((1, 1, -1, 5, 3990))  # ok: the episode ends (nothing stored)
    assert g.pop() is None
    _rx_jammed(g)
    assert g.pop()[0] == I.K_RX_JAMMING


def test_one_spoofing_episode_is_one_alert():
    for flag_first in (True, False):
        tag = Tag()
        for k in range(10):
            tag.second(T0 + k, epoch(T0 + k, SKY))
        if flag_first:
            tag.g.rx((2, -1, 2, -1, -1))
            tag.g.rx((2, -1, 2, -1, -1))
        for k in range(10, 10 + I.UNI_EPOCHS + 2):
            tag.second(T0 + k, epoch(T0 + k, UNIFORM))
        if not flag_first:
            tag.g.rx((3, -1, 2, -1, -1))
            tag.g.rx((3, -1, 2, -1, -1))
            tag.second(T0 + 30, b"")
        alerts = [k for k in tag.kinds() if I.Integrity().alert(k)]
        assert len(alerts) == 1, tag.kinds()
        more = [e for e in tag.events if e[0] == I.K_MORE]
        later = I.K_SPOOFING if flag_first else I.K_RX_SPOOFING
        assert [evidence(e)[1] for e in more] == [later], tag.kinds()
