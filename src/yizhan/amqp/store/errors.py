"""The store's one error: a data file yizhan cannot use, named with what to do."""


class StoreError(Exception):
    """A corrupt or unreadable AMQP data file; the message names the file."""
