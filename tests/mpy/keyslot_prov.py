# The device shell's choice of key slot (tagdevice.prov.key_slot, prov.sealer) on the fake
# esp32.Partition: which slot each case gets, the note, what it loads, what is left of the old
# littlefs slot file. Prints one line per case: "name kind note|- epoch|- file|nofile why|-".
import esp32
from tagcore.store import seal as S
from tagdevice import prov
from tagkit.memfs import MemFs

K0 = bytes(range(32))
KID = b"\x07" * 8


def chip(label="sealkey"):
    esp32.TABLE.clear()
    if label:
        esp32.add_partition(label, 2 * esp32.SECTOR, track=False)


def state(e):
    return S.pack_slot(e, 10 * e, S.key_at(K0, e), bytes(16))


def case(name, fs, label="sealkey"):
    slot, note = prov.key_slot(fs, label)
    sl, why = prov.sealer(fs, KID, slot)
    got = S.unpack_slot(slot.load())
    kind = type(slot).__name__
    print(
        name,
        kind,
        "-" if note is None else note.replace(" ", "_"),
        "-" if got is None else got[0],
        "file" if "k" in fs.files else "nofile",
        "-" if why is None else why.replace(" ", "_"),
        int(sl is not None),
    )
    return slot


def with_file(e):
    fs = MemFs()
    if e is None:
        fs.files["k"] = bytearray(b"K1 damaged")
    else:
        S.FileSlot(fs).save(state(e))
    return fs


chip(None)
fs = with_file(3)
case("none_named", fs, None)
case("no_partition", fs)
chip()
case("migrated", fs)
case("again", fs)  # the next boot: the partition's slot, nothing to move
chip()
s = prov.key_slot(MemFs(), "sealkey")[0]
s.save(state(7))
fs = with_file(5)
slot = prov.key_slot(fs, "sealkey")[0]  # the partition's newer epoch wins
print("newer_kept", S.unpack_slot(slot.load())[0], "file" if "k" in fs.files else "nofile")
chip()
prov.key_slot(MemFs(), "sealkey")[0].save(state(2))
case("file_damaged", with_file(None))
chip()
case("both_damaged_or_empty", with_file(None))
chip()
p = esp32.Partition.find(esp32.Partition.TYPE_DATA, label="sealkey")[0]
p.writeblocks(0, b"KP\x05\x00\x00\x00\x3ejunk", 0)  # a record whose CRC fails
case("partition_damaged", MemFs())
chip()
case("empty_no_key", MemFs())  # nothing anywhere (no /prov/seal.key here): unsealed
