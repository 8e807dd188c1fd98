# tagcore.gnss: the GNSS room, sans-I/O: bytes from the receiver in, fixes and commands out.
#
#   nmea.py, nmeafields.py, epoch.py   the NMEA front end: sentences into epochs into fixes
#                  (NmeaReader), their dates and GPS week rollover (epoch.py)
#   fixfilter.py   FixFilter: drops fixes that cannot be true (jumps, time going backwards)
#   ubx.py         the UBX framer that shares the UART byte stream with the NMEA reader
#   ublox_m8.py, ublox_m10.py, mtk.py, unicore.py   command builders per receiver family
#                  (MediaTek/Quectel L76K PMTK and CASIC $PCAS; the UC6580 has no soft sleep)
#   rail.py        rail actions for the board's PMU or GPIO
#   power.py       the receiver power state machine (GnssPower)
#   energy.py, schedule.py, rate.py, profile.py   the energy model the planner chooses a mode
#                  with, search scheduling, the adaptive rate, a board profile's receiver
# Bytes and actions out, replies and `now` in; the shell writes the UART and the PMU's I2C.
# May import: tagcore.compat, tagcore.geo, tagcore.fix. The NMEA reader and the drivers meet only
# in ubx.UbxFramer.feed, which hands every byte outside a UBX frame to the reader it is given.
# This file imports nothing: a package costs heap on MicroPython, its modules are loaded by name.
