# The few `machine` calls the beacon app makes, for the unix port: an RTC whose time can be set
# and a light sleep that returns at once.
import time

_offset = [0]


SET = []  # every tuple given to RTC().datetime(...)


class RTC:
    def datetime(self, dt=None):
        if dt is None:
            return None
        SET.append(tuple(dt))
        y, mo, d, _wd, h, mi, s, _sub = dt
        _offset[0] = time.mktime((y, mo, d, h, mi, s, 0, 0)) - time.time()
        return None


def lightsleep(ms=0):
    return None
