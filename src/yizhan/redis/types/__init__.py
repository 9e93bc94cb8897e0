"""The Redis value types, one module each, as Redis's t_*.c files: each owns its value class
(or, for strings and HyperLogLogs, the representation of a string value) and the internal API
that commands, persistence (RDB, AOF rewrite, DUMP/RESTORE) and the keyspace call. Nothing here
imports a command module; the command modules import these.

- `strings`: Redis's string object encodings (int, embstr, raw) and shared integers.
- `packed`: `PackedMap`, one bytes object holding a small map (the listpack hash).
- `pool`: `Pool`, the position-indexed element array behind hashtable hashes and sets.
- `lists`: `RedisList`.  - `hashes`: `Hash`.  - `sets`: `Set`.  - `zsets`: `ZSet`.
- `hll`: HyperLogLog strings, Redis 7.0's sparse and dense representations byte for byte.
"""
