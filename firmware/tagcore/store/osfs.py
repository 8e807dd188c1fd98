# The filesystem the store runs on: a directory through `os` (littlefs on the device and in the
# MicroPython tests, real files under CPython and in the simulator). The one piece of the store
# room that touches I/O, so its own module: tagcore.store.log never imports it, the shells hand
# it over (tagdevice.shell, the simulator, the tests). Portable.


class OsFs:
    """The filesystem as the store sees it: `os` plus `open`, rooted at `root`."""

    def __init__(self, root):
        import os

        self.os = os
        self.root = root

    def listdir(self):
        return self.os.listdir(self.root)

    def open(self, name, mode):
        return open(self.root + "/" + name, mode)

    def remove(self, name):
        self.os.remove(self.root + "/" + name)

    def rename(self, a, b):
        self.os.rename(self.root + "/" + a, self.root + "/" + b)
