# The tag's firmware entry point (docs/device.md): the banner, the provisioned files, the loop.
# An exception that escapes the loop is logged and the chip reset; the crash-loop counter
# (tagdevice.health) turns repeated failures into safe mode.
import machine

try:
    from tagdevice import shell

    shell.main()
except Exception as e:
    import sys

    from tagdevice import log

    log.error("main", f"crashed: {e!r}")
    sys.print_exception(e)
    machine.reset()
