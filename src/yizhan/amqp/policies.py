"""Policies, as rabbit_policy and rabbit_policies (3.10) define them: a named pattern per vhost
that applies a definition (message-ttl, expires, max-length, ...) to the queues whose names
match it. Of the policies that match a queue (`apply-to` queues or all), the one with the
highest priority applies, and only that one (ties: the first by name). How a policy's values
combine with the queue's own arguments is queue_settings.py's business.

Policies come from the config file (`amqp-policy`) and from the definitions log (`yizhan
definitions import`); both are checked here with RabbitMQ's validation messages. Keys RabbitMQ
knows that yizhan does not act on (ha-*, federation-*, stream and quorum tuning, queue-version,
alternate-exchange) are accepted and kept (exported again), as data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yizhan.amqp import erlang

APPLY_TO = ("queues", "exchanges", "all")
_KEPT_KEYS = {"alternate-exchange", "ha-mode", "ha-params", "ha-sync-mode", "ha-sync-batch-size",
              "ha-promote-on-shutdown", "ha-promote-on-failure", "queue-master-locator",
              "federation-upstream", "federation-upstream-set", "max-age",
              "stream-max-segment-size-bytes", "max-in-memory-length", "max-in-memory-bytes",
              "dead-letter-strategy", "queue-leader-locator", "initial-cluster-size",
              "queue-version"}


class PolicyError(ValueError):
    """A policy RabbitMQ would refuse; the message is RabbitMQ's validation text."""


def _int_at_least(minimum: int, what: str):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"{_p(value)} is not a valid {what}"
        return None
    return check


def _string(what: str):
    def check(value):
        return None if isinstance(value, str) else f"{_p(value)} is not a valid {what}"
    return check


def _one_of(values, what: str):
    def check(value):
        return None if value in values else f"{_p(value)} is not a valid {what}"
    return check


# rabbit_policies:validate_policy0
VALIDATORS = {
    "message-ttl": _int_at_least(0, "message TTL"),
    "expires": _int_at_least(1, "queue expiry"),
    "max-length": _int_at_least(0, "maximum length"),
    "max-length-bytes": _int_at_least(0, "maximum length in bytes"),
    "delivery-limit": _int_at_least(0, "delivery limit"),
    "dead-letter-exchange": _string("dead letter exchange"),
    "dead-letter-routing-key": _string("dead letter routing key"),
    "queue-mode": _one_of(("default", "lazy"), "queue-mode value"),
    "overflow": _one_of(("drop-head", "reject-publish", "reject-publish-dlx"), "overflow value"),
}


def _p(value) -> str:
    """A JSON value as RabbitMQ's ~p prints the term it became (strings are binaries)."""
    return erlang.format_p("", _term(value))


def _term(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, dict):
        return [(_term(k), _term(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_term(v) for v in value]
    return value


@dataclass
class Policy:
    vhost: str
    name: str
    pattern: str
    definition: dict
    priority: int = 0
    apply_to: str = "all"
    regex: re.Pattern = field(repr=False, compare=False, default=None)
    source: str = "stored"  # "config" (the config file) or "stored" (the definitions log)

    def applies_to_queue(self, queue_name: str) -> bool:
        return self.apply_to != "exchanges" and self.regex.search(queue_name) is not None

    def record(self) -> dict:
        """The definitions-log / definitions.json fields."""
        return {"vhost": self.vhost, "name": self.name, "pattern": self.pattern,
                "apply-to": self.apply_to, "definition": self.definition,
                "priority": self.priority}


def make_policy(vhost: str, name: str, pattern: str, definition, priority=0,
                apply_to: str = "all") -> Policy:
    """A checked policy (rabbit_policy:validate); PolicyError with RabbitMQ's text if not."""
    if apply_to not in APPLY_TO:
        raise PolicyError(f"apply-to '{apply_to}' unrecognised; should be 'queues', "
                          "'exchanges' or 'all'")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise PolicyError(f"Priority must be a number: {priority!r}")
    if not isinstance(definition, dict) or not definition:
        raise PolicyError(f"no policy provided: {definition!r}")
    unknown = [(k, v) for k, v in definition.items() if k not in VALIDATORS and k not in _KEPT_KEYS]
    if unknown:
        raise PolicyError(f"{erlang.format_p('', [(_term(k), _term(v)) for k, v in unknown])} "
                          "are not recognised policy settings")
    for key, value in definition.items():
        check = VALIDATORS.get(key)
        error = check(value) if check is not None else None
        if error is not None:
            raise PolicyError(error)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise PolicyError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    return Policy(vhost, name, pattern, dict(definition), priority, apply_to, regex)


def from_record(record: dict) -> Policy:
    return make_policy(record["vhost"], record["name"], record["pattern"], record["definition"],
                       record.get("priority", 0), record.get("apply-to", "all"))


def select(policies, queue_name: str) -> Policy | None:
    """rabbit_policy:match: the highest-priority policy whose pattern matches the queue."""
    best = None
    for policy in sorted(policies, key=lambda p: p.name):
        if policy.applies_to_queue(queue_name) and (best is None or policy.priority > best.priority):
            best = policy
    return best
