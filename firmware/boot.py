# Runs first at every reset (MicroPython: boot.py, then main.py). Kept empty of work: the
# REPL stays on the USB serial (opentag deploy and mpremote need its raw REPL), and anything
# that could fail here would keep main.py from logging why.
import gc

gc.collect()
