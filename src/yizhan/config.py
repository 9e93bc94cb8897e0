"""One frozen `Config`, read once at start from defaults, an optional config file and the
command line (in that order of precedence, last wins).

The config file uses redis.conf's shape: one `name value...` per line, `#` comments. Names are
the command-line options (`port`, `amqp-port`, `data-dir`, ...) and any Redis parameter that
`CONFIG GET` knows (`requirepass`, `maxmemory`, ...), which become that parameter's start value.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

SERVER_KEYS = {"bind", "port", "amqp-port", "http-port", "data-dir", "log-level"}


@dataclass(frozen=True)
class Config:
    bind: str = "127.0.0.1"
    port: int = 6379
    amqp_port: int = 5672
    http_port: int = 15672
    data_dir: str = "./yizhan-data"
    log_level: str = "info"
    redis_params: dict[str, str] = field(default_factory=dict)

    def with_overrides(self, **changes) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


class ConfigFileError(Exception):
    """A config file line yizhan cannot use; the message names the file and line."""


def load_file(path: str | Path, base: Config | None = None) -> Config:
    base = base or Config()
    changes: dict[str, object] = {}
    params = dict(base.redis_params)
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise ConfigFileError(f"cannot read config file {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            raise ConfigFileError(f"{path}:{number}: unbalanced quotes") from None
        name, values = words[0].lower(), words[1:]
        if name in SERVER_KEYS:
            if len(values) != 1:
                raise ConfigFileError(f"{path}:{number}: '{name}' takes exactly one value")
            value: object = values[0]
            if name.endswith("port"):
                if not values[0].isdigit():
                    raise ConfigFileError(f"{path}:{number}: '{name}' must be a port number")
                value = int(values[0])
            changes[name.replace("-", "_")] = value
        else:
            params[name] = " ".join(values)
    return replace(base, redis_params=params, **changes)
