# The device shell's GNSS pump: bytes from the receiver's UART into the core's NMEA reader.
# Device-only (machine.UART, time.ticks_*); the core itself never touches hardware or clocks.
import time

from machine import UART
from tagcore.compat import const

# A receiver sends its epoch as one burst; when the line has been quiet this long the burst is
# over and the epoch can be closed, a second earlier than the next epoch's first sentence would.
IDLE_FLUSH_MS = const(150)
# The ESP32 UART driver's receive buffer. Its 256-byte default holds 22 ms at 115200 baud:
# anything that keeps the CPU longer loses NMEA. 2 KB holds two seconds at 9600 baud.
RXBUF = const(2048)


def open_uart(uart_id, rx, tx, baud, rxbuf=RXBUF):
    """The receiver's UART, non-blocking (timeout=0), with a receive buffer that can wait."""
    return UART(uart_id, baudrate=baud, rx=rx, tx=tx, rxbuf=rxbuf, timeout=0)


class GnssPump:
    # framer (tagcore.gnss.ubx.UbxFramer, optional): sees the bytes first and passes everything
    # outside UBX frames on to the reader. power (tagcore.gnss.power.GnssPower, optional): told
    # of every UBX message and of output, ticked every poll; actions (tagdevice.gnsspower.
    # GnssActions): carries out what it asks.
    def __init__(
        self, uart, reader, chunk=256, idle_ms=IDLE_FLUSH_MS, framer=None, power=None, actions=None
    ):
        self.uart = uart
        self.reader = reader
        self.framer = framer
        self.power = power
        self.actions = actions
        self.buf = bytearray(chunk)  # reused for every read: no allocation per poll
        self.idle_ms = idle_ms
        self.last_rx = 0
        self.pending = False  # bytes arrived since the last flush
        self.bytes_in = 0

    def discard(self):
        """Drop what the UART holds (bytes from before a sleep). A sentence it cuts fails its
        checksum in the reader and is counted there."""
        while self.uart.any():
            if not self.uart.readinto(self.buf):
                break

    def poll(self, now_ms):
        """Move what the UART holds into the reader; once the line has gone quiet, close the
        open epoch. `now_ms` is time.ticks_ms(). Returns how many fixes the reader holds."""
        uart = self.uart
        reader = self.reader
        buf = self.buf
        fr = self.framer
        pw = self.power
        while uart.any():
            n = uart.readinto(buf)
            if not n:  # None on timeout
                break
            if fr is None:
                reader.feed(buf, n)
            else:
                fr.feed(buf, n, reader)
                while True:
                    m = fr.pop()
                    if m is None:
                        break
                    if pw is not None:
                        pw.on_ubx(now_ms, m[0], m[1], m[2])
            if pw is not None:
                pw.on_output(now_ms)
            self.bytes_in += n
            self.last_rx = now_ms
            self.pending = True
        if self.pending and time.ticks_diff(now_ms, self.last_rx) >= self.idle_ms:
            if fr is not None:
                fr.flush()
            reader.flush()
            self.pending = False
        if pw is not None:
            pw.tick(now_ms)
            if self.actions is not None:
                self.actions.run(pw)
        return reader.pending()
