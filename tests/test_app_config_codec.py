"""The tag configuration codec under hypothesis: what the host encodes the tag loads exactly;
whatever bytes arrive, the tag's loader never raises and runs only on in-range values."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.app import config
from taghost import tagconfig

KEYS = {k[1]: k for k in config.KEYS}


@st.composite
def tables(draw) -> dict[str, int]:
    names = draw(st.lists(st.sampled_from(sorted(KEYS)), unique=True))
    return {n: draw(st.integers(KEYS[n][3], KEYS[n][4])) for n in names}


@settings(max_examples=300, deadline=None)
@given(tables(), st.binary(max_size=300), st.binary(max_size=50))
def test_what_the_host_encodes_the_tag_loads(values, zones, beacon) -> None:
    blob = tagconfig.encode(values, {config.SEC_ZONES: zones, config.SEC_BEACON: beacon})
    cfg, counts = config.load(blob)
    assert counts == {}
    for name, k in KEYS.items():
        assert getattr(cfg, name) == values.get(name, k[2])
    assert cfg.zones_blob == zones and cfg.beacon_blob == beacon


def _flip(b: bytes) -> st.SearchStrategy[bytes]:
    """b with one byte changed."""
    return st.tuples(st.integers(0, len(b) - 1), st.integers(1, 255)).map(
        lambda m: b[: m[0]] + bytes([b[m[0]] ^ m[1]]) + b[m[0] + 1 :]
    )


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | tables().map(tagconfig.encode).flatmap(_flip))
def test_any_bytes_load_without_raising_and_stay_in_range(blob) -> None:
    cfg, counts = config.load(blob)
    assert isinstance(counts, dict)
    for name, k in KEYS.items():
        assert k[3] <= getattr(cfg, name) <= k[4]
    if counts:  # refused whole: defaults; or a key refused alone: counted by its name
        assert all(isinstance(v, int) and v > 0 for v in counts.values())


def test_host_refusals_name_the_key() -> None:
    problems = tagconfig.check({"guard_kmh": 251, "fix_interval_s": "60", "nope": 1})
    assert any(p.startswith("guard_kmh: 251 is out of range") for p in problems)
    assert any(p.startswith("fix_interval_s: expected an integer") for p in problems)
    assert any(p.startswith("nope: unknown key") for p in problems)
