# One position fix, as the core passes it around after epoch assembly.
# All fields are integers (or None where the receiver did not say), so the result is identical
# on 32-bit-float ESP32 and on CPython, and every value fits a 31-bit small int on the device.
from collections import namedtuple

# t          UTC seconds since 2000-01-01T00:00:00Z (MicroPython's embedded epoch)
# ms         milliseconds within that second, 0..999
# lat, lon   microdegrees, north and east positive
# alt_dm     altitude above mean sea level, decimetres (None if unknown)
# speed_cms  speed over ground, cm/s (None if unknown)
# course_cd  course over ground, centidegrees 0..35999 (None if unknown)
# acc_dm     horizontal accuracy estimate, decimetres: 1-sigma radius from GST when the receiver
#            sends it, else HDOP x UERE (None if neither is known)
# hdop_c     HDOP x 100 (None if unknown)
# sats       satellites used, summed across constellations (0 if unknown)
# quality    GGA fix quality: 1 GPS, 2 DGPS, 3 PPS, 4 RTK, 5 float RTK, 6 estimated, 7 manual,
#            8 simulated; 0 = no fix
# mode       2 = 2D, 3 = 3D, 0 = unknown
# flags      FLAG_* bits below
Fix = namedtuple(
    "Fix",
    (
        "t",
        "ms",
        "lat",
        "lon",
        "alt_dm",
        "speed_cms",
        "course_cd",
        "acc_dm",
        "hdop_c",
        "sats",
        "quality",
        "mode",
        "flags",
    ),
)

FLAG_ACC_GST = 1  # accuracy from the receiver's own error estimate (GST)
FLAG_ACC_HDOP = 2  # accuracy derived from HDOP x UERE
FLAG_DATE_ROLLOVER = 4  # the receiver's date was 1024 weeks (or more) behind and was corrected
FLAG_DATE_CARRIED = 8  # the epoch had no date of its own; carried from an earlier epoch
