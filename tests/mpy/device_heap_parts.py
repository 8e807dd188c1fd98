# What the tag's heap holds, part by part (bench/bench_device_heap.py prints it): the firmware's
# runtime objects built one after another as the shell builds them at boot (after every module
# they need is imported, so each figure is the object alone, not its code), then what one
# upload's batch building allocates. Each line "PART name kept_bytes allocated_bytes": kept =
# what stays after gc.collect(), allocated = everything the step asked the heap for (the
# collector held off), which is what a fragmented heap must find room for.
# Usage: micropython device_heap_parts.py DIR ZONES_BIN CONFIG_BIN   (DIR: an empty directory)
import gc
import sys

from tagcore.app import config as C
from tagcore.app.app import TagApp
from tagcore.fix import Fix
from tagcore.store.osfs import OsFs
from tagcore.uplink.client import UplinkClient
from tagcore.zones.monitor import ZoneMonitor
from tagdevice.uplink_http import Link

NOW = 849484800
_at = [0]


def start():
    gc.collect()
    _at[0] = gc.mem_alloc()
    gc.disable()


def part(name):
    grabbed = gc.mem_alloc() - _at[0]
    gc.enable()
    gc.collect()
    print("PART", name, gc.mem_alloc() - _at[0], grabbed)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    root, zpath, cpath = sys.argv[1], sys.argv[2], sys.argv[3]
    zblob = read(zpath)
    cblob = read(cpath)
    start()
    cfg = C.load(cblob)[0]
    part("config")
    start()
    zones = ZoneMonitor(zblob)
    assert zones.error is None, zones.error
    part("zones")
    del zblob
    start()
    app = TagApp(cfg, OsFs(root), NOW, zones, None, None)
    part("app")
    start()
    app.store.reserve_merge()  # as the shell does at boot
    part("store_merge_buffers")
    start()
    client = UplinkClient(app.store, b"\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11", bytes(32))
    part("uplink_client")
    start()
    link = Link("127.0.0.1", 8080)
    part("http_link")
    t = NOW
    for k in range(15):  # a quarter of an hour of fixes, as between two uploads
        t += 60
        app.store.append_fix(
            t, Fix(t, 0, 50726000 + k, -1879500 + 3 * k, 52, 0, 0, 36, 9, 9, 1, 1, 1)
        )
    gc.collect()
    start()
    body = client.request(t)
    assert body is not None
    part("uplink_batch")
    del body, link


main()
