# The tag side of the simulator: portable code (the MicroPython subset) that runs the core
# exactly as the device will, under CPython or inside the real MicroPython interpreter.
