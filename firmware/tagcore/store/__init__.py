# tagcore.store: the flash store room. An append-only log of fixes and events in segment files.
#
#   log.py       Store: append, read, acknowledge, recover after a power cut (docs/store.md)
#   record.py    the frame and record codec (varints, fix deltas, event kinds)
#   thin.py      thinning old fix runs to hold the flash budget (imported when needed)
#   full.py      what a full partition does (imported when needed)
#   rtcstate.py  the store's unflushed state packed into RTC memory across deep sleep
#   osfs.py      OsFs, the filesystem the shells hand the store (the room's one I/O piece)
#   seal.py      forward-secure seals over what the log holds (docs/evidence.md)
#   keyslot.py   PartSlot, the seals' key slot on a raw flash partition (old keys erased)
#
# May import: tagcore.compat, tagcore.fix. Files are reached only through the object it is given.
# This file imports nothing: a package costs heap on MicroPython, its modules are loaded by name.
