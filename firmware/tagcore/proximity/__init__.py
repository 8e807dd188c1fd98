# tagcore.proximity: the victim-beacon room, both sides of the beacon protocol.
#
#   monitor.py   Proximity: scan results and victim positions in, near/far decisions out
#   beaconid.py  the rolling identifier (HMAC of the secret and the interval), the beacon's too
#   idtable.py   the tag's 48 h table of expected identifiers (a hash index, no secret on the tag)
#   advdata.py   BLE advertising payload: build (beacon) and find (tag IRQ path)
#   phonetime.py the victim's phone's signed time for the beacon, and the beacon's rule for it
#
# May import: tagcore.compat, tagcore.geo, tagcore.mac, tagcore.store.record (varints). The
# beacon imports only beaconid, advdata and phonetime, so it never loads the tag's monitor.
# This file imports nothing: a package costs heap on MicroPython, its modules are loaded by name.
