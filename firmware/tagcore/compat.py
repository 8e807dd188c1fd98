# What the core needs from MicroPython's built-ins, with CPython stand-ins that behave the same.
import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    from micropython import const
else:

    def const(x):
        return x
