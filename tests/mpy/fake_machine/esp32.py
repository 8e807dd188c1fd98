# A stand-in for the ESP32 port's `esp32` module: the deep-sleep wake sources the tag arms for
# its tamper inputs (RTC GPIOs, ext0 / ext1 as the MicroPython ESP32 docs describe them).
WAKEUP_ALL_LOW = 0
WAKEUP_ANY_HIGH = 1

WAKE = {"ext0": None, "ext1": None}


def wake_on_ext0(pin, level):
    WAKE["ext0"] = None if pin is None else (pin.id, level)


def wake_on_ext1(pins, level):
    WAKE["ext1"] = None if not pins else (tuple(p.id for p in pins), level)
