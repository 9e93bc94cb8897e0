"""Publish/subscribe commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.

Confirmations are pushes: arrays in RESP2, `>` pushes in RESP3, one per channel.
"""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.glob import match as glob_match
from yizhan.redis.table import command, container, help_reply
from yizhan.resp import ErrorReply, Many, Push


def _count(c, shard: bool) -> int:
    """The count a (un)subscribe confirmation carries: shard channels are counted apart."""
    return len(c.shard_subscriptions) if shard else len(c.subscriptions) + len(c.patterns)


def _subscribe(c, names, kind: bytes, own: dict, add, shard: bool = False):
    replies = Many()
    for name in names:
        if add(c, name):
            own[name] = None
        replies.append(Push([kind, name, _count(c, shard)]))
    return replies


def _unsubscribe(c, names, kind: bytes, own: dict, remove, shard: bool = False):
    names = list(names) or list(own)
    if not names:
        return Many([Push([kind, None, _count(c, shard)])])
    replies = Many()
    for name in names:
        if remove(c, name):
            own.pop(name, None)
        replies.append(Push([kind, name, _count(c, shard)]))
    return replies


@command("SUBSCRIBE channel [channel ...]", arity=-2, flags="pubsub noscript loading stale",
         group="pubsub", since="2.0.0", summary="Listen for messages published to the given channels")
def subscribe(c, argv):
    return _subscribe(c, argv[1:], b"subscribe", c.subscriptions, c.server.pubsub.subscribe)


@command("UNSUBSCRIBE [channel ...]", arity=-1, flags="pubsub noscript loading stale",
         group="pubsub", since="2.0.0", summary="Stop listening for messages posted to the given channels")
def unsubscribe(c, argv):
    return _unsubscribe(c, argv[1:], b"unsubscribe", c.subscriptions, c.server.pubsub.unsubscribe)


@command("PSUBSCRIBE pattern [pattern ...]", arity=-2, flags="pubsub noscript loading stale",
         group="pubsub", since="2.0.0", summary="Listen for messages published to channels matching the given patterns")
def psubscribe(c, argv):
    return _subscribe(c, argv[1:], b"psubscribe", c.patterns, c.server.pubsub.psubscribe)


@command("PUNSUBSCRIBE [pattern ...]", arity=-1, flags="pubsub noscript loading stale",
         group="pubsub", since="2.0.0", summary="Stop listening for messages posted to channels matching the given patterns")
def punsubscribe(c, argv):
    return _unsubscribe(c, argv[1:], b"punsubscribe", c.patterns, c.server.pubsub.punsubscribe)


@command("SSUBSCRIBE shardchannel [shardchannel ...]", arity=-2, flags="pubsub noscript loading stale",
         keys=(1, -1, 1), group="pubsub", since="7.0.0", summary="Listen for messages published to the given shard channels",
         key_specs="not_key index:1 range:-1:1:0")
def ssubscribe(c, argv):
    return _subscribe(c, argv[1:], b"ssubscribe", c.shard_subscriptions, c.server.pubsub.ssubscribe, shard=True)


@command("SUNSUBSCRIBE [shardchannel ...]", arity=-1, flags="pubsub noscript loading stale",
         keys=(1, -1, 1), group="pubsub", since="7.0.0", summary="Stop listening for messages posted to the given shard channels",
         key_specs="not_key index:1 range:-1:1:0")
def sunsubscribe(c, argv):
    return _unsubscribe(c, argv[1:], b"sunsubscribe", c.shard_subscriptions, c.server.pubsub.sunsubscribe,
                        shard=True)


@command("PUBLISH channel message", arity=3, flags="pubsub loading stale fast may_replicate",
         group="pubsub", since="2.0.0", summary="Post a message to a channel")
def publish(c, argv):
    return c.server.pubsub.publish(argv[1], argv[2])


@command("SPUBLISH shardchannel message", arity=3, flags="pubsub loading stale fast may_replicate",
         keys=(1, 1, 1), group="pubsub", since="7.0.0", summary="Post a message to a shard channel",
         key_specs="not_key index:1")
def spublish(c, argv):
    return c.server.pubsub.spublish(argv[1], argv[2])


container("PUBSUB", group="pubsub", since="2.8.0", summary="A container for Pub/Sub commands")


def _matching(names, argv):
    pattern = argv[2] if len(argv) > 2 else None
    return [name for name in names if pattern is None or glob_match(pattern, name)]


@command("PUBSUB HELP", arity=2, flags="loading stale", group="pubsub", acl="slow", since="6.2.0",
         summary="Show helpful text about the different subcommands")
def pubsub_help(c, argv):
    return help_reply(argv, [
        "CHANNELS [<pattern>]", "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT", "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]", "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)"])


@command("PUBSUB CHANNELS [pattern]", arity=-2, flags="pubsub loading stale", group="pubsub",
         since="2.8.0", summary="List active channels")
def pubsub_channels(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "pubsub"))
    return _matching(c.server.pubsub.channels, argv)


@command("PUBSUB SHARDCHANNELS [pattern]", arity=-2, flags="pubsub loading stale", group="pubsub",
         since="7.0.0", summary="List active shard channels")
def pubsub_shardchannels(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "pubsub"))
    return _matching(c.server.pubsub.shard_channels, argv)


@command("PUBSUB NUMSUB [channel ...]", arity=-2, flags="pubsub loading stale", group="pubsub",
         since="2.8.0", summary="Get the count of subscribers for channels")
def pubsub_numsub(c, argv):
    channels = c.server.pubsub.channels
    out = []
    for name in argv[2:]:
        out += [name, len(channels.get(name, ()))]
    return out


@command("PUBSUB SHARDNUMSUB [shardchannel ...]", arity=-2, flags="pubsub loading stale", group="pubsub",
         since="7.0.0", summary="Get the count of subscribers for shard channels")
def pubsub_shardnumsub(c, argv):
    channels = c.server.pubsub.shard_channels
    out = []
    for name in argv[2:]:
        out += [name, len(channels.get(name, ()))]
    return out


@command("PUBSUB NUMPAT", arity=2, flags="pubsub loading stale", group="pubsub", since="2.8.0",
         summary="Get the count of unique patterns pattern subscriptions")
def pubsub_numpat(c, argv):
    return len(c.server.pubsub.patterns)
