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

SERVER_KEYS = {"bind", "port", "amqp-port", "amqps-port", "http-port", "management-ssl-port",
               "metrics-port", "data-dir", "log-level"}
# RabbitMQ's ssl_options (AMQPS) and management.ssl.* (the management API over HTTPS): net/tls.py
SSL_KEYS = {f"{listener}-ssl-{key}" for listener in ("amqp", "management")
            for key in ("certfile", "keyfile", "cacertfile", "verify", "fail-if-no-peer-cert")}
AMQP_KEYS = {"amqp-user", "amqp-vhost", "amqp-guest-loopback-only"}
POLICY_KEYS = {"amqp-policy"}
CONSUMER_KEYS = {"amqp-consumer-timeout"}
STORE_KEYS = {"amqp-recover-damaged"}
CONTROL_KEYS = {"test-control"}
RESOURCE_KEYS = {"amqp-vm-memory-high-watermark", "amqp-vm-memory-high-watermark-absolute",
                 "amqp-vm-memory-high-watermark-paging-ratio", "amqp-disk-free-limit"}


@dataclass(frozen=True)
class Config:
    bind: str = "127.0.0.1"
    port: int = 6379
    amqp_port: int = 5672
    http_port: int = 15672
    # Prometheus /metrics (rabbitmq_prometheus's 15692); None: 15692, or a free port when
    # http_port is 0 (tests), so servers started on free ports never collide on it
    metrics_port: int | None = None
    data_dir: str = "./yizhan-data"
    log_level: str = "info"
    redis_params: dict[str, str] = field(default_factory=dict)
    # `user NAME RULES...` lines: ACL users defined in the config file (redis/acl)
    redis_users: tuple[tuple[str, ...], ...] = ()
    # AMQP accounts beyond guest: (name, password, vhosts), extra vhosts, and whether guest may
    # only log in from loopback (RabbitMQ's loopback_users default).
    amqp_users: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    amqp_vhosts: tuple[str, ...] = ()
    # `amqp-policy` lines, as definitions.json policy records (amqp/policies.py)
    amqp_policies: tuple[dict, ...] = ()
    guest_loopback_only: bool = True
    # resource alarms (amqp/alarms.py): RabbitMQ's vm_memory_high_watermark (relative, or
    # absolute bytes when set) and disk_free_limit (bytes)
    amqp_memory_watermark: float = 0.4
    amqp_memory_watermark_absolute: int | None = None
    amqp_paging_ratio: float = 0.5
    amqp_disk_free_limit: int = 50_000_000
    # RabbitMQ's consumer_timeout in ms (None: off); amqp/consumer_timeout.py
    amqp_consumer_timeout: int | None = 1_800_000
    # damaged AMQP data files: copied aside and loaded without their damaged records instead
    # of refusing the start (amqp/store/damage.py)
    amqp_recover_damaged: bool = False
    # test controls over HTTP (POST /yizhan/control/<operation>) and a clock tests can move
    test_control: bool = False
    # AMQPS (net/tls.py): the port (None: 5671 when a certificate is set, else no listener)
    # and RabbitMQ's ssl_options certfile, keyfile, cacertfile, verify, fail_if_no_peer_cert
    amqps_port: int | None = None
    amqp_ssl_certfile: str = ""
    amqp_ssl_keyfile: str = ""
    amqp_ssl_cacertfile: str = ""
    amqp_ssl_verify: str = "verify_none"
    amqp_ssl_fail_if_no_peer_cert: bool = False
    # the management API over HTTPS, RabbitMQ's management.ssl.* (port: 15671 when a
    # certificate is set, else no HTTPS listener)
    management_ssl_port: int | None = None
    management_ssl_certfile: str = ""
    management_ssl_keyfile: str = ""
    management_ssl_cacertfile: str = ""
    management_ssl_verify: str = "verify_none"
    management_ssl_fail_if_no_peer_cert: bool = False

    @property
    def metrics_listen_port(self) -> int:
        if self.metrics_port is not None:
            return self.metrics_port
        return 0 if self.http_port == 0 else 15692

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
        if name in AMQP_KEYS:
            changes.update(_amqp_setting(name, values, changes, base, f"{path}:{number}"))
        elif name in POLICY_KEYS:
            changes["amqp_policies"] = changes.get("amqp_policies", base.amqp_policies) + (
                _policy(values, f"{path}:{number}"),)
        elif name in CONSUMER_KEYS:
            changes["amqp_consumer_timeout"] = _consumer_timeout(name, values, f"{path}:{number}")
        elif name in STORE_KEYS:
            if len(values) != 1 or values[0].lower() not in ("yes", "no"):
                raise ConfigFileError(f"{path}:{number}: '{name}' takes yes or no")
            changes["amqp_recover_damaged"] = values[0].lower() == "yes"
        elif name in CONTROL_KEYS:
            if len(values) != 1 or values[0].lower() not in ("yes", "no"):
                raise ConfigFileError(f"{path}:{number}: '{name}' takes yes or no")
            changes["test_control"] = values[0].lower() == "yes"
        elif name in SSL_KEYS:
            changes.update(_ssl_setting(name, values, f"{path}:{number}"))
        elif name in RESOURCE_KEYS:
            changes.update(_resource_setting(name, values, f"{path}:{number}"))
        elif name == "user":
            if not values:
                raise ConfigFileError(f"{path}:{number}: 'user' takes a username and its ACL rules")
            changes["redis_users"] = changes.get("redis_users", base.redis_users) + (tuple(values),)
        elif name in SERVER_KEYS:
            if len(values) != 1:
                raise ConfigFileError(f"{path}:{number}: '{name}' takes exactly one value")
            value: object = values[0]
            if name.endswith("port"):
                if not values[0].isdigit():
                    raise ConfigFileError(f"{path}:{number}: '{name}' must be a port number")
                value = int(values[0])
            changes[name.replace("-", "_")] = value
        else:
            params[name] = redis_value(name, " ".join(values), f"{path}:{number}")
    return replace(base, redis_params=params, **changes)


def redis_value(name: str, value: str, where: str) -> str:
    """A Redis parameter's start value, checked as CONFIG SET checks it (unknown names pass)."""
    from yizhan.redis.params import BY_NAME, Params
    from yizhan.resp import ErrorReply

    param = BY_NAME.get(name)
    if param is None:
        return value
    try:
        Params().normalize(param, value)
    except ErrorReply as exc:
        reason = exc.message.split(" - ", 1)[-1]
        raise ConfigFileError(f"{where}: bad value for '{name}': {reason}") from None
    return value


def _policy(values: list[str], where: str) -> dict:
    """`amqp-policy VHOST NAME PATTERN JSON-DEFINITION [priority N] [apply-to queues|exchanges|all]`,
    checked as RabbitMQ checks a policy."""
    import json

    from yizhan.amqp.policies import PolicyError, make_policy

    usage = (f"{where}: 'amqp-policy' takes a vhost, a name, a pattern, a JSON definition and "
             "optional 'priority N' and 'apply-to queues|exchanges|all'")
    if len(values) < 4 or len(values) % 2:
        raise ConfigFileError(usage)
    vhost, name, pattern, text = values[:4]
    options = dict(zip(values[4::2], values[5::2]))
    if set(options) - {"priority", "apply-to"}:
        raise ConfigFileError(usage)
    try:
        definition = json.loads(text)
    except ValueError:
        raise ConfigFileError(f"{where}: the policy definition is not JSON: {text}") from None
    priority = options.get("priority", "0")
    if not priority.lstrip("-").isdigit():
        raise ConfigFileError(f"{where}: the policy priority must be an integer: {priority}")
    try:
        policy = make_policy(vhost, name, pattern, definition, int(priority),
                             options.get("apply-to", "all"))
    except PolicyError as exc:
        raise ConfigFileError(f"{where}: policy '{name}': {exc}") from None
    return policy.record()


def _consumer_timeout(name: str, values: list[str], where: str) -> int | None:
    """`amqp-consumer-timeout 1800000` (milliseconds, RabbitMQ's consumer_timeout) or `off`."""
    if len(values) == 1 and values[0].lower() == "off":
        return None
    if len(values) != 1 or not values[0].isdigit() or int(values[0]) == 0:
        raise ConfigFileError(f"{where}: '{name}' takes milliseconds (a positive integer) or off")
    return int(values[0])


def _resource_setting(name: str, values: list[str], where: str) -> dict:
    """`amqp-vm-memory-high-watermark 0.4` (a fraction of RAM),
    `amqp-vm-memory-high-watermark-absolute 512MB`, `amqp-disk-free-limit 50MB`."""
    from yizhan.amqp.alarms import parse_size

    if len(values) != 1:
        raise ConfigFileError(f"{where}: '{name}' takes exactly one value")
    if name in ("amqp-vm-memory-high-watermark", "amqp-vm-memory-high-watermark-paging-ratio"):
        try:
            fraction = float(values[0])
        except ValueError:
            fraction = -1.0
        if not 0 <= fraction:
            raise ConfigFileError(f"{where}: '{name}' must be a fraction such as 0.4")
        key = "amqp_memory_watermark" if name.endswith("watermark") else "amqp_paging_ratio"
        return {key: fraction}
    size = parse_size(values[0])
    if size is None:
        raise ConfigFileError(f"{where}: '{name}' must be a size such as 512MB or 1GiB")
    if name == "amqp-disk-free-limit":
        return {"amqp_disk_free_limit": size}
    return {"amqp_memory_watermark_absolute": size}


def _amqp_setting(name: str, values: list[str], changes: dict, base: Config, where: str) -> dict:
    """`amqp-user NAME PASSWORD [VHOST ...]` (default vhost "/"), `amqp-vhost NAME`,
    `amqp-guest-loopback-only yes|no`."""
    if name == "amqp-user":
        if len(values) < 2:
            raise ConfigFileError(f"{where}: 'amqp-user' takes a name, a password and optional vhosts")
        users = changes.get("amqp_users", base.amqp_users)
        return {"amqp_users": users + ((values[0], values[1], tuple(values[2:]) or ("/",)),)}
    if name == "amqp-vhost":
        if len(values) != 1:
            raise ConfigFileError(f"{where}: 'amqp-vhost' takes exactly one name")
        return {"amqp_vhosts": changes.get("amqp_vhosts", base.amqp_vhosts) + (values[0],)}
    if len(values) != 1 or values[0].lower() not in ("yes", "no"):
        raise ConfigFileError(f"{where}: 'amqp-guest-loopback-only' takes yes or no")
    return {"guest_loopback_only": values[0].lower() == "yes"}


def _ssl_setting(name: str, values: list[str], where: str) -> dict:
    """`amqp-ssl-certfile PATH` (and keyfile, cacertfile), `amqp-ssl-verify verify_peer|verify_none`,
    `amqp-ssl-fail-if-no-peer-cert true|false`: RabbitMQ's ssl_options.*; the same five with
    `management-ssl-` for management.ssl.*."""
    if len(values) != 1:
        raise ConfigFileError(f"{where}: '{name}' takes exactly one value")
    value, field = values[0], name.replace("-", "_")
    if name.endswith("-verify"):
        if value not in ("verify_peer", "verify_none"):
            raise ConfigFileError(f"{where}: '{name}' takes verify_peer or verify_none")
        return {field: value}
    if name.endswith("-fail-if-no-peer-cert"):
        if value not in ("true", "false"):
            raise ConfigFileError(f"{where}: '{name}' takes true or false")
        return {field: value == "true"}
    return {field: value}
