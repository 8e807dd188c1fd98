# The uplink client as TagApp's `uplink` (tagcore.app.app): the app wants on_reply to return
# the acknowledged seq (None: refused) and an alert hook; UplinkClient returns a verdict.
#
#   app = TagApp(cfg, fs, now, zones, prox)
#   app.uplink = AppClient(app.store, tag_id, key)    # then the shell sends app.uplink_request
#
# Only the client's verified ack truncates the store; the app's own ack after it is a no-op.
from tagcore.compat import const
from tagcore.uplink.client import ACKED, UplinkClient

DRAIN_MIN = const(64)  # records behind the ack worth sending on for at once (one fix run)


class AppClient(UplinkClient):
    drain = False  # the last ack leaves more to send, and sending on makes progress
    backoff = 0  # seconds to wait after the last refused reply (0: none)

    def on_reply(self, now, body):
        prev, out = self.acked, self.out
        why = UplinkClient.on_reply(self, now, body)
        self.verdict = why  # kept for the shell's log: acked, forged, stale, ...
        # Send on at once after an ack that moved the acknowledged point or took an alert
        # batch, while an alert or a backlog (not the few fixes of the last seconds) is left;
        # never after one that changed nothing, so a server that stops acknowledging, or a
        # tag logging at 1 Hz near a zone, cannot keep the radio on.
        left = self.store.next_seq - 1 - self.acked
        self.drain = (
            why == ACKED
            and (bool(self.pending) or left > DRAIN_MIN)
            and (self.acked > prev or (out is not None and out[1] > prev + 1))
        )
        if why == ACKED:
            return self.acked
        # No valid answer to this exchange (as tagdevice.uplink_http.upload treats it): the
        # outstanding request is dropped and the back-off grows; the app retries alerts on it.
        self.backoff = self.on_failure(now)
        return None
