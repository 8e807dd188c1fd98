# tagcore.uplink: the tag's side of the uplink (docs/uplink.md, wire format v1).
#
# Owns: the CBOR subset both directions use (cbor), COSE_Mac0 with HMAC 256/64 (cose), a batch
# built from the store one segment's worth at a time (batch), the acknowledgement and downlink
# check (ack) and the sans-I/O client state machine that alone calls store.ack() (client).
# May import: hashlib, tagcore.compat, tagcore.record, and the store object it is given.
# No sockets, no clock: the transport is the shell's (tagdevice.uplink_http), `now` an argument.
