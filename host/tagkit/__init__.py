# Host-side code that must also run under MicroPython (the tests build blobs and run the store
# on the device's own interpreter; the simulator's MicroPython driver keeps its flash log on
# these filesystems). Portable: MicroPython built-ins only, no type hints at run time.
# Never shipped to the tag (`opentag build` compiles firmware/ only): what builds the tag's
# data (zone blobs, beacon identifier windows, needing the beacon secret) and what stands in
# for its flash off the device.
#   tagkit.civil         day numbers back to calendar dates
#   tagkit.zonewrite     writes zone blobs (format: tagcore.zones.blob)
#   tagkit.beaconwindow  a beacon's identifier window from its secret (format: proximity.idtable)
#   tagkit.memfs         MemFs: a filesystem in RAM for tagcore.store.log (tests, the simulator)
#   tagkit.simseal       the simulated tag's sealer: its key slot provisioned at the first boot
