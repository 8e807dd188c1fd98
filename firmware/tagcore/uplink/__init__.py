# tagcore.uplink: the tag's side of the uplink (docs/uplink.md, wire format v1).
#
# Owns: the CBOR subset both directions use (cbor), COSE_Mac0 with HMAC 256/64 (cose), the
# packed fix runs (fixcodec; their reader fixdecode is the server's, the tag never loads it), a
# batch built from the store a chunk at a time into buffers allocated once (batch), the
# acknowledgement and downlink check (ack) and the sans-I/O client state machine that alone
# calls store.ack() (client).
# May import: hashlib, tagcore.compat, tagcore.store.record, tagcore.fix, and (lazily, for the
# default downlink checks) tagcore.zones.blob and tagcore.proximity.idtable; the store is an object
# it is given. No sockets, no clock: the transport is the shell's (tagdevice.uplink_http).
