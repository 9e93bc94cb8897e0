"""The Redis side of yizhan: command table, keyspace, per-client sessions and command groups."""
