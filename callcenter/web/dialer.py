"""The AMI connection the web's "Oddzwoń" (call back) places its calls through.

`callcenter serve` runs the listener beside the web app on one event loop: the runner hands
the listener's `AmiClient` to a `Dialer` (run_listener's `on_ready`), and the web app reads it
from there. `callcenter web` alone has no AMI connection: its Dialer stays empty and the
call-back action answers 503 saying so.
"""

from __future__ import annotations

from callcenter.pbx.ami import AmiClient


class DialerUnavailableError(Exception):
    """No AMI connection to place a call through (the message says why, in one line)."""


class Dialer:
    def __init__(self) -> None:
        self._client: AmiClient | None = None

    def attach(self, client: AmiClient | None) -> None:
        self._client = client

    def client(self) -> AmiClient:
        """The connected AMI client, or DialerUnavailableError."""
        if self._client is None:
            raise DialerUnavailableError(
                "this web app runs without the AMI listener (`callcenter web`): "
                "calls are placed by `callcenter serve`"
            )
        if not self._client.connected:
            raise DialerUnavailableError("the AMI connection to Asterisk is down; try again")
        return self._client
