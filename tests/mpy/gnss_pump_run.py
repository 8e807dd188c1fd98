# Drives tagdevice.gnssuart against the fake UART: a capture is "transmitted" at the baud rate
# and the pump polls every POLL ms. Prints the fixes and the reader's counters.
# Usage: gnss_pump_run.py CAPTURE BAUD RXBUF POLL_MS FLOOR_DAYS
import sys

from machine import UART
from tagcore.gnss.nmea import NmeaReader
from tagdevice.gnssuart import GnssPump

path, baud, rxbuf, poll, floor = sys.argv[1:6]
baud, rxbuf, poll, floor = int(baud), int(rxbuf), int(poll), int(floor)
f = open(path, "rb")
size = f.seek(0, 2)
f.seek(0)
uart = UART(1, baudrate=baud, rxbuf=rxbuf)
uart.transmit(f, 0)
reader = NmeaReader(floor_days=floor)
pump = GnssPump(uart, reader)
t = 0
fixes = 0
end = size * 10000 // baud + 3000  # the line is quiet for the last polls
while t < end:
    uart.advance(t)
    pump.poll(t)
    while True:
        f = reader.pop()
        if f is None:
            break
        fixes += 1
        print("fix", f.t, f.ms, f.lat, f.lon, f.quality)
    t += poll
print("fixes", fixes, "lost", uart.lost, "bytes", pump.bytes_in)
print("counts", sorted(reader.counts.items()))
