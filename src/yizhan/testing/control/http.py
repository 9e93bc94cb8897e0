"""The HTTP control endpoint, for test suites in any language: `POST
/yizhan/control/<operation>` on the management HTTP port with a JSON object of the operation's
keyword arguments; the answer is `{"result": ...}`.

Off unless the server was started with test controls (`yizhan serve --test-control`, the config
file's `test-control yes`, `yizhan.Server(test_control=True)`); when off the path does not exist
(404, as any unknown path). When on it takes the management API's authentication (HTTP Basic
against the AMQP users, guest only from loopback) and the `administrator` tag: it can stop the
server's listeners and drop its data, so never enable it on a server others can reach."""

from __future__ import annotations

import json

from yizhan.testing.control.controls import OPERATIONS, Controls
from yizhan.testing.control.state import SnapshotError


class ControlRequestError(Exception):
    """The request cannot be run: `status` and the reason (shown to the caller)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def run(controls: Controls, operation: str, body: bytes):
    """Run `operation` with the JSON object `body` as keyword arguments; its result."""
    if operation not in OPERATIONS:
        raise ControlRequestError(404, f"no test control named {operation!r}")
    try:
        arguments = json.loads(body or b"{}")
    except ValueError:
        raise ControlRequestError(400, "the body must be a JSON object") from None
    if not isinstance(arguments, dict):
        raise ControlRequestError(400, "the body must be a JSON object")
    try:
        return getattr(controls, operation)(**arguments)
    except TypeError as exc:  # a missing or unknown argument
        raise ControlRequestError(400, str(exc)) from None
    except (ValueError, KeyError, SnapshotError) as exc:
        raise ControlRequestError(400, str(exc)) from None
