"""Damaged AMQP data files are never lost silently (issue 17).

A torn tail (the incomplete end of the last write, which no confirm or -ok ever covered) is
cut off with a warning. Any other damage refuses the start with one line naming the file and
the byte offset; with the recovery option (`yizhan serve --amqp-recover-damaged`, config
`amqp-recover-damaged yes`) the file is first copied aside into `<data-dir>/amqp/quarantine/`,
then loading goes on with its intact records and the loss is logged."""

from __future__ import annotations

import os
import shutil
import time

from yizhan.amqp.store.errors import StoreError

RECOVERY_HINT = ("start with --amqp-recover-damaged (config: amqp-recover-damaged yes) to keep a copy "
                 "of the file aside and load its intact records")


def refusal(path: str, offset: int, what: str, line: int | None = None) -> StoreError:
    where = f"{path}:{line}" if line is not None else path
    return StoreError(f"{where}: corrupt {what} at byte {offset}; {RECOVERY_HINT}")


def quarantine(path: str, directory: str) -> str:
    """Copy `path` into `directory` (created if needed) under a name that says when; the copy's
    path."""
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, f"{os.path.basename(path)}.{time.strftime('%Y%m%dT%H%M%S')}")
    suffix = 0
    while os.path.exists(target + (f".{suffix}" if suffix else "")):
        suffix += 1
    target += f".{suffix}" if suffix else ""
    shutil.copy2(path, target)
    with open(target, "rb") as f:
        os.fsync(f.fileno())
    return target


def replace_file(path: str, data: bytes) -> None:
    """Write `data` over `path` the crash-safe way: a temporary file, fsynced, renamed."""
    temp = path + ".salvage"
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
