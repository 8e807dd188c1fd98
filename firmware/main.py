# The tag's firmware entry point (docs/device.md): the banner, the provisioned files, the loop.
# An exception that escapes the loop is logged and the chip reset; the crash-loop counter
# (tagdevice.health) turns repeated failures into safe mode.
import machine

# Room for the loop's large buffers (the store's, the uplink's), taken before the imports and
# boot's parsing leave the heap in pieces, and given back (Shell) just before they are made:
# the zone tag then boots in 16 KB less heap (bench/bench_device_heap.py, docs/device.md).
try:
    ROOM = [bytearray(20480)]
except MemoryError:
    ROOM = []
try:
    from tagdevice import shell

    shell.main(ROOM)
except Exception as e:
    import sys

    from tagdevice import log

    log.error("main", f"crashed: {e!r}")
    sys.print_exception(e)
    machine.reset()
