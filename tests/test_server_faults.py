"""Faults between tag and server over loopback (a smaller run of bench/bench_server.py's):
every record stored exactly once, none deleted from a tag before the server held it."""

from __future__ import annotations

import pytest
import uplinkfaults as F


@pytest.mark.slow
def test_every_fault_exactly_once(server_db_url):
    r = F.run_faults(server_db_url, faults=330, tags=3, seed=11)
    assert set(r["by_fault"]) == set(F.FAULTS), r  # every kind of fault was injected
    assert r["faults"] >= 330
    assert r["drained"], r
    assert r["records"] > 500
    assert (r["lost"], r["extra"], r["duplicates"], r["differ"]) == (0, 0, 0, 0), r
    assert r["deleted_before_held"] == 0, r
    # The tag saw forged, stale and cut replies and kept its log through them.
    refusals = r["tag_refusals"]
    assert refusals.get("forged_or_malformed", 0) > 0 and refusals.get("stale", 0) > 0, r
