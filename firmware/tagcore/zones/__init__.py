# tagcore.zones: the zone room. Exclusion and inclusion zones and curfews, checked on the tag.
#
#   monitor.py  ZoneMonitor: a fix in, breaches and warnings out (the zone core's state machine)
#   blob.py     the compiled zone blob's layout and its reader (the host writes the blob)
#   geom.py     signed distances to circles, corridors and polygons in the local integer frame
#   curfew.py   weekly curfew rules with DST transitions compiled by the host
#
# May import: tagcore.compat, tagcore.geo, tagcore.fix, tagcore.store.record (event codes).
# This file imports nothing: a package costs heap on MicroPython, its modules are loaded by name.
