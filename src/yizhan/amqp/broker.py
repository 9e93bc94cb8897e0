"""The broker: virtual hosts, users and login, the negotiated limits, and the connections.

One `Broker` lives in the server runtime; every AMQP connection refers to it. It holds what
RabbitMQ keeps node-wide: the vhost registry, the user database (guest/guest, allowed from
loopback only, by default), and the values offered in connection.tune.

Users come from three places: the built-in guest, the config file (`amqp-user`, plain
passwords) and the definitions log (`yizhan definitions import`: RabbitMQ's salted password
hashes, tags, limits and per-vhost permissions, restored at boot by `restore_accounts`). A
config-file user wins over a stored one of the same name; a stored guest replaces the built-in
one (keeping its loopback-only setting, which RabbitMQ ties to the name).
"""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass, field

from pamqp import commands as spec

from yizhan.amqp import codec, counters, errors, passwords, policies
from yizhan.amqp.delayed import DelayedMessages
from yizhan.amqp.store import NullStore
from yizhan.amqp.timers import Timers
from yizhan.amqp.vhost import VHost

PRODUCT = "RabbitMQ"
VERSION = "3.10.8"
MECHANISMS = b"PLAIN AMQPLAIN"  # RabbitMQ lists them in registry (ETS) order, which varies by node
LOCALES = b"en_US"
CAPABILITIES = {  # in the order RabbitMQ 3.10 sends them
    "publisher_confirms": True, "exchange_exchange_bindings": True, "basic.nack": True,
    "consumer_cancel_notify": True, "connection.blocked": True, "consumer_priorities": True,
    "authentication_failure_close": True, "per_consumer_qos": True, "direct_reply_to": True,
}


@dataclass
class User:
    name: str
    password: str | None                      # plain text (built-in, config file) or None
    loopback_only: bool = False
    vhosts: set[str] = field(default_factory=lambda: {"/"})
    password_hash: str = ""                   # RabbitMQ's base64(salt ++ hash) when stored
    hashing_algorithm: str = passwords.DEFAULT_ALGORITHM
    tags: list = field(default_factory=list)
    limits: dict = field(default_factory=dict)
    source: str = "config"                    # "builtin", "config" or "stored"
    permissions: dict = field(default_factory=dict)  # vhost -> {configure, write, read} (data)

    def check(self, password: str) -> bool:
        if self.password is not None:
            return self.password == password
        return passwords.check_password(password, self.password_hash, self.hashing_algorithm)


@dataclass
class Limits:
    channel_max: int = 2047
    frame_max: int = 131072
    heartbeat: int = 60
    max_message_size: int = 134217728
    handshake_timeout: float = 10.0
    silent_close_delay: float = 3.0


class Broker:
    def __init__(self, limits: Limits | None = None, store=None, timers: Timers | None = None):
        self.limits = limits or Limits()
        self.store = store if store is not None else NullStore()
        self.timers = timers if timers is not None else Timers()
        self.store.clock = self.timers.clock  # arrival times of stored messages (TTL)
        self.delayed = DelayedMessages(self)  # messages held by x-delayed-message exchanges
        self.vhosts: dict[str, VHost] = {}
        self.add_vhost("/")
        self.users: dict[str, User] = {"guest": User("guest", "guest", loopback_only=True,
                                                     tags=["administrator"], source="builtin")}
        self.connections: set = set()
        self.churn = counters.new_churn()  # connections and channels opened/closed (counters.py)
        self.on_connection = None  # the test controls' look at each accepted connection (None: off)
        self.alarms: set = set()  # resource alarms in effect: "memory", "disk" (alarms.py)
        self.unwritable = 0  # connections not writable now (flow.py: none, no socket-paced park)
        self.next_connection_id = 1
        self.deferred: list = []
        self.reply_channels: dict = {}  # direct reply-to: channel token -> channel
        self._start_frame: bytes | None = None

    def start_frame(self) -> bytes:
        """connection.start, as RabbitMQ 3.10 sends it (encoded once)."""
        if self._start_frame is None:
            self._start_frame = codec.method_frame(0, codec.new(
                spec.Connection.Start, version_major=0, version_minor=9,
                server_properties=self.server_properties(), mechanisms=MECHANISMS,
                locales=LOCALES))
        return self._start_frame

    def server_properties(self) -> dict:
        return {
            "capabilities": CAPABILITIES,
            "cluster_name": f"yizhan@{socket.gethostname()}",
            "copyright": "yizhan: a pure-Python server speaking AMQP 0-9-1 as RabbitMQ does",
            "information": "Licensed under the MIT license",
            "platform": f"Python {platform.python_version()}",
            "product": PRODUCT,
            "version": VERSION,
        }

    # -- users ------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, vhosts=("/",), loopback_only: bool = False) -> None:
        self.users[name] = User(name, password, loopback_only, set(vhosts))

    def add_vhost(self, name: str) -> VHost:
        vhost = self.vhosts.get(name)
        if vhost is None:
            vhost = self.vhosts[name] = VHost(name, self.store, self.timers)
            vhost.delayed = self.delayed
        return vhost

    def check_login(self, username: str, password: str) -> User | None:
        user = self.users.get(username)
        if user is None or not user.check(password):
            return None
        return user

    def restore_accounts(self, state) -> None:
        """Boot: vhosts, users and permissions from the definitions log (`Definitions`)."""
        for record in [*state.vhosts.values(), *state.users.values(), *state.permissions.values()]:
            self.apply_account(record, boot=True)
        for record in state.policies.values():
            self.add_policy(policies.from_record(record))

    def apply_account(self, record: dict, boot: bool = False) -> None:
        """One definitions-log account record (v+/v-, u+/u-, p+/p-), at boot or from a change
        on the running broker (amqp/accounts.py). At boot a config-file user wins over a
        stored one; a stored user replacing another keeps its vhosts and permissions."""
        op = record["op"]
        if op == "v+":
            vhost = self.add_vhost(record["name"])
            vhost.metadata = dict(record.get("metadata") or {})
        elif op == "v-":
            self.vhosts.pop(record["name"], None)
        elif op == "u+":
            old = self.users.get(record["name"])
            if not (boot and old is not None and old.source == "config"):
                self.users[record["name"]] = _stored_user(record, old)
        elif op == "u-":
            self.users.pop(record["name"], None)
        else:
            user = self.users.get(record["user"])
            if user is None or (boot and user.source == "config"):
                return
            if op == "p+":
                self.add_vhost(record["vhost"])
                user.vhosts.add(record["vhost"])
                user.permissions[record["vhost"]] = {k: record.get(k, ".*") for k in ("configure", "write", "read")}
            else:
                user.vhosts.discard(record["vhost"])
                user.permissions.pop(record["vhost"], None)

    def add_policy(self, policy, source: str = "stored") -> None:
        """A policy from the config file or the definitions log (a config one of the same
        vhost and name wins)."""
        vhost = self.add_vhost(policy.vhost)
        old = vhost.policies.get(policy.name)
        if old is not None and old.source == "config" and source != "config":
            return
        policy.source = source
        vhost.set_policy(policy)

    def open_vhost(self, user: User, name: str) -> VHost:
        """connection.open: the vhost, or 530 as RabbitMQ words it."""
        vhost = self.vhosts.get(name)
        if vhost is None:
            raise errors.vhost_not_found(name)
        if name not in user.vhosts and "*" not in user.vhosts:
            raise errors.vhost_access_refused(user.name, name)
        return vhost

    def recover(self) -> None:
        """Boot: durable definitions and persistent messages back from the store."""
        self.store.recover(self)

    # -- work done after the current method's reply ---------------------------------------------
    def defer(self, action) -> None:
        """Run `action` after the method being handled has sent its reply (RabbitMQ sends, say,
        a consumer's basic.cancel after the queue.delete-ok of the channel that deleted it)."""
        self.deferred.append(action)

    def run_deferred(self) -> None:
        while self.deferred:
            actions, self.deferred = self.deferred, []
            for action in actions:
                action()


def _stored_user(record: dict, replaced: User | None) -> User:
    """A user from the definitions log; replacing guest keeps guest's loopback-only flag, and
    replacing any user keeps its vhosts and permissions."""
    user = User(record["name"], None, loopback_only=replaced.loopback_only if replaced else False,
                vhosts=set(), password_hash=record.get("password_hash") or "",
                hashing_algorithm=record.get("hashing_algorithm") or passwords.DEFAULT_ALGORITHM,
                tags=list(record.get("tags") or []), limits=dict(record.get("limits") or {}),
                source="stored")
    if replaced is not None:
        user.vhosts = set(replaced.vhosts)
        user.permissions = dict(replaced.permissions)
    return user
