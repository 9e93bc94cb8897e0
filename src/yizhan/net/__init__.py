"""The only code that touches sockets: listeners, per-connection transports, backpressure."""
