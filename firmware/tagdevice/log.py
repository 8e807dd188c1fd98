# Console log lines after the boot banner: "<t> <LEVEL> <module>: <text>", t in seconds since
# 2000 (docs/device.md). One print per line; nothing is kept in RAM. The counts say how many
# warnings and errors this boot logged (the status report carries them).
from tagdevice import clock

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
counts = [0, 0, 0, 0]


def log(level, module, text):
    counts[level] += 1
    print(str(clock.now()), LEVELS[level], module + ":", text)


def info(module, text):
    log(1, module, text)


def warn(module, text):
    log(2, module, text)


def error(module, text):
    log(3, module, text)
