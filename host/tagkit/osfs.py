# The filesystem tagcore.store.log runs on off the device: a directory through `os` (real littlefs
# in the MicroPython tests, real files under CPython and in the simulator). Portable. Its own
# module: the simulator's MicroPython tag imports it on a board-sized heap.


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
