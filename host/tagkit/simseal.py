# The simulated tag's sealer (docs/evidence.md), for both of the simulator's runtimes (CPython's
# tagsim.runtime and the MicroPython lockstep driver): the key slot in the tag's filesystem,
# provisioned with the initial key k0 at the first boot, as the device takes /prov/seal.key
# into its slot (tagdevice.prov.sealer). Portable.


def sealer(fs, kid, k0):
    from tagcore.store import seal as S

    slot = S.FileSlot(fs)
    if slot.load() is None:
        S.provision(slot, k0)
    return S.Sealer(slot, kid)
