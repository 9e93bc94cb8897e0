"""yizhan (驿站): one pure-Python server that speaks Redis (RESP2/RESP3) and AMQP 0-9-1.

The public surface is small: `Server` starts a real server in a background thread for programs
and tests; `yizhan serve` (see `yizhan.cli`) runs one in the foreground.
"""

from yizhan.embedded import Server

__all__ = ["Server", "__version__"]
__version__ = "0.1.0"
