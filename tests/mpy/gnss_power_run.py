# Drives tagdevice.gnssuart's pump with a UBX framer and the core's power state machine against
# the fake UART, I2C and pins: a capture with ACKs spliced in is "transmitted"; the PMU register
# and the bytes written to the receiver are printed.
# Usage: gnss_power_run.py CAPTURE
import sys

from machine import I2C, UART, Pin
from tagcore.gnss import ublox_m8, unicore
from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.power import CONTINUOUS, CYCLIC, OFF, GnssPower
from tagcore.gnss.rail import rail_action
from tagcore.gnss.ubx import UbxFramer
from tagdevice.gnsspower import GnssActions
from tagdevice.gnssuart import GnssPump

AXP192 = {"method": "pmu", "i2c_addr": 52, "reg": 18, "bit": 3}
VEXT = {"method": "gpio", "pin": 3, "active": "high"}

i2c = I2C(0)
i2c.regs[(52, 18)] = 0x47  # DCDC1/3, LDO2 on: must survive the LDO3 switch
uart = UART(1, baudrate=9600, rxbuf=2048)
pw = GnssPower(ublox_m8, rail_action(AXP192, True), rail_action(AXP192, False))
acts = GnssActions(uart, i2c)
reader = NmeaReader(floor_days=7037)
pump = GnssPump(uart, reader, framer=UbxFramer(), power=pw, actions=acts)
pw.request(0, CONTINUOUS)
acts.run(pw)
print("reg", i2c.regs[(52, 18)])
uart.transmit(open(sys.argv[1], "rb"), 100)
t = 0
while t < 4000:
    uart.advance(t)
    pump.poll(t)
    t += 50
print("mode", pw.mode, "busy", pw.busy)
print("counts", sorted(pw.counts.items()))
print("framer", sorted(pump.framer.counts.items()), pump.framer.framed)
print("reader", reader.sentences, sorted(reader.counts.items()))
for w in uart.written:
    print("wrote", w.hex())
pw.request(t, CYCLIC)  # the capture has no ACK for it: retried, then counted
while t < 9000:
    uart.advance(t)
    pump.poll(t)
    t += 50
print("cyclic", pw.mode, sorted(pw.counts.items()))
pw.request(t, OFF)
acts.run(pw)
print("reg", i2c.regs[(52, 18)], "mode", pw.mode)
i2c.fail = True
pw.request(t, CONTINUOUS)
acts.run(pw)
print("i2c", sorted(acts.counts.items()))
# a GPIO rail (Heltec Vext): held through deep sleep, switched by release-drive-hold
Pin.held[3] = True
g = GnssPower(unicore, rail_action(VEXT, True), rail_action(VEXT, False))
ga = GnssActions(uart)
g.request(0, CONTINUOUS)
ga.run(g)
print("vext", Pin.levels.get(3), Pin.held.get(3))
g.request(10, OFF)
ga.run(g)
print("vext", Pin.levels.get(3), Pin.held.get(3))
