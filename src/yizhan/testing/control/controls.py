"""`Controls`: every test control of one running server, in one object (called on the
server's event loop; `yizhan.Server` and the HTTP endpoint get there their own way)."""

from __future__ import annotations

from yizhan.testing.control.clock import TimeControl


class Controls:
    def __init__(self, runtime):
        self.runtime = runtime
        self.time = TimeControl(runtime)
