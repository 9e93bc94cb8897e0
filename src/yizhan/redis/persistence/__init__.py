"""Persistence: Redis's RDB file format (rdb.py, sans-IO) and the snapshots built on it."""
