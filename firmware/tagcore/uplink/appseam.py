# The uplink client as TagApp's `uplink` (tagcore.app.app): the app wants on_reply to return
# the acknowledged seq (None: refused) and an alert hook; UplinkClient returns a verdict.
#
#   app = TagApp(cfg, fs, now, zones, prox)
#   app.uplink = AppClient(app.store, tag_id, key)    # then the shell sends app.uplink_request
#
# Only the client's verified ack truncates the store; the app's own ack after it is a no-op.
from tagcore.uplink.client import ACKED, UplinkClient


class AppClient(UplinkClient):
    drain = False  # send the next batch at once (UplinkClient.send_on: TagApp reads it)
    backoff = 0  # seconds to wait after the last refused reply (0: none)

    def on_reply(self, now, body):
        why = UplinkClient.on_reply(self, now, body)  # keeps `verdict` for the shell's log
        self.drain = self.send_on()
        if why == ACKED:
            return self.acked
        # No valid answer to this exchange (as tagdevice.uplink_http.upload treats it): the
        # outstanding request is dropped and the back-off grows; the app retries alerts on it.
        self.backoff = self.on_failure(now)
        return None
