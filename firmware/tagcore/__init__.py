# tagcore: the portable core of the tag. Pure state machines, no I/O, no clock reads.
# Runs unchanged on MicroPython (ESP32) and CPython 3.10+; see ../../README.md.
VERSION = "0.1.0"
