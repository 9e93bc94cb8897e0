"""Generic key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, MOVE, COPY, OBJECT, expiry."""
