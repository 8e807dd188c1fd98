# Boot only (the shell unloads it): a LoRa radio the tag does not use, on a board that powers it
# from an always-on 3V3 (the Heltec Wireless Tracker's SX1262), put in its sleep mode. After
# power-on the SX1262 sits in STDBY_RC, 0.6 mA (Semtech SX1261/2 datasheet, table 3-8): more
# than the rest of the board asleep. Cold-start sleep is 160 nA. Profile: boards/*.json
# lora_sleep {"chip", "spi", "sck", "mosi", "miso", "nss", "busy"}.
from micropython import const

from tagdevice import clock

_SET_SLEEP = const(0x84)  # SetSleep (datasheet 13.1.1); its one parameter, sleepConfig:
_COLD_START = const(0x00)  # bit 2 clear = cold start (nothing kept), bit 0 clear = no RTC wake
_BUSY_MS = const(20)  # BUSY stays high while the chip boots (3.5 ms from sleep, cold): margin


def sleep(cfg):
    """Wake the chip if a previous boot left it asleep (NSS low wakes it), wait for BUSY to
    fall, send SetSleep, and hold NSS high so a floating line cannot wake it while the ESP32
    deep-sleeps. True once sent; False if BUSY never fell (no chip answers there, or it hangs):
    the caller logs and reports it, the boot goes on."""
    from machine import SPI, Pin

    # released from the last boot's hold (a held pin ignores writes: the ESP32 port's hold=)
    nss = Pin(cfg["nss"], Pin.OUT, value=1, hold=False)  # type: ignore[call-arg]
    busy = Pin(cfg["busy"], Pin.IN)
    nss(0)  # a falling NSS is the datasheet's wake from sleep; in standby it does nothing
    nss(1)
    t0 = clock.ticks_ms()
    while busy():
        if clock.ticks_diff(clock.ticks_ms(), t0) > _BUSY_MS:
            nss.init(Pin.OUT, hold=True)  # type: ignore[call-arg]
            return False
        clock.sleep_ms(1)
    spi = SPI(cfg["spi"], baudrate=1000000, polarity=0, phase=0, sck=Pin(cfg["sck"]),
              mosi=Pin(cfg["mosi"]), miso=Pin(cfg["miso"]))  # fmt: skip  # SPI mode 0
    nss(0)
    spi.write(bytes((_SET_SLEEP, _COLD_START)))
    nss(1)
    spi.deinit()
    nss.init(Pin.OUT, hold=True)  # type: ignore[call-arg]
    return True
