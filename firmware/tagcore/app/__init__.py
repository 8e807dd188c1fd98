# tagcore.app: the tag's brain. It owns the application that the device shell and the
# simulator both drive: the inputs (wake, UART bytes, scans, battery, tamper, link, victim
# position, uplink results), the outputs (GNSS power, scan requests, uplink requests, wake time,
# events for the wearer and the log), the one planner that decides what next and when, and the
# tag configuration (a versioned, CRC-checked blob the host compiles).
#
#   app.py      Planner (the one place that decides what next and when) and TagApp (inputs,
#               outputs, carries out the decisions): one module, since each module costs heap
#               (a separate planner.py cost ~3 KB of a 96 KB board's margin)
#   guard.py    the drive-through guard, imported only when configured
#   config.py   TagConfig and its blob loader (counted safe defaults); unloaded after boot
#
# May import: tagcore's front end (nmea, fixfilter), store, record, geo, compat; the zone and
# proximity cores only through the objects it is handed (or lazily, where used), since each
# costs heap on a board without PSRAM. Nothing here touches hardware or reads a clock.
# This file imports nothing: a package costs heap on MicroPython, its modules are loaded by name.
