# Unicore UC6580 (Heltec Wireless Tracker): no soft sleep and no battery-backed RAM on the
# board, so the only power control is the rail, every power-up is a cold start, and the
# configuration is lost with the rail (meshtastic firmware PR 9082). Its factory NMEA output is
# what the tag reads, so set-up sends nothing; the power state machine still runs set-up after
# every power-up, which is where a Unicore $CFG command would go once verified on a board.
FAMILY = "unicore"
SOFT_BACKUP = False
CYCLIC = False
WAKE_BYTES = b""


def setup():
    return []


def continuous():
    return []


def cyclic(period_ms=1000):
    return []


def backup(duration_ms=0):
    return []
