"""Controls that let a test suite steer a running yizhan: the server clock (advance, freeze,
set), faults, state snapshots and observation. One implementation (`Controls`, made for a
running `ServerRuntime`, called on its event loop) behind three surfaces: the embedded
`yizhan.Server` methods, the pytest plugin's fixtures and markers, and the HTTP control
endpoint (`http.py`, off unless asked for)."""

from yizhan.testing.control.controls import Controls

__all__ = ["Controls"]
