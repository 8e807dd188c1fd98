# tagcore.gnss: the GNSS receiver's side of the core, sans-I/O.
#
# Owns: command builders per receiver family (ublox_m8, ublox_m10, mtk for MediaTek/Quectel
# L76K PMTK and CASIC $PCAS, unicore for the UC6580 that has no soft sleep), the UBX framer that
# shares the UART byte stream with tagcore.nmea (ubx), the rail actions for the board's PMU or
# GPIO (rail), the receiver power state machine (power) and the energy model the planner chooses
# a mode with (energy). Bytes and actions out, replies and `now` in; the shell writes the UART and
# the PMU's I2C.
# May import: tagcore.compat only. Nothing here imports the flat tagcore modules' internals, so
# the NMEA reader and this package can change independently; they meet in ubx.UbxFramer.feed,
# which hands every byte outside a UBX frame to the NMEA reader it is given.
