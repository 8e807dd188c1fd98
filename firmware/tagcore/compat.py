# What the core needs from MicroPython's built-ins, with CPython stand-ins that behave the same.
import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    from micropython import const
else:

    def const(x):
        return x


# 2000-01-01T00:00:00Z in Unix seconds: the core's time base, for ports (and hosts) whose
# time.time() counts from 1970.
UNIX_2000 = const(946684800)
