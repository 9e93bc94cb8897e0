"""Routing without sockets: topic patterns, headers matching, direct and fanout, exchange-to-
exchange bindings, alternate exchanges, CC/BCC routes and the default exchange. The expected
outcomes of the topic and headers tables were recorded from RabbitMQ 3.10.8."""
from __future__ import annotations

from decimal import Decimal

import pytest
from pamqp import encode as pencode

from yizhan.amqp import codec
from yizhan.amqp.exchanges import (DirectExchange, FanoutExchange, HeadersExchange,
                                   TopicExchange, Binding, split_topic_key)
from yizhan.amqp.message import Message
from yizhan.amqp.vhost import VHost


class Dest:
    kind = "queue"

    def __init__(self, name):
        self.name = name
        self.bound_from = {}


def table(values) -> codec.FieldTable | None:
    """A field table typed as pamqp (which pika uses) encodes it."""
    if values is None:
        return None
    return codec.decode_table(pencode.field_table(values)[4:])

# (pattern, routing key, routed) as RabbitMQ 3.10.8 answered
TOPIC_CASES = [
    ('#', '', True),
    ('#', 'a', True),
    ('#', 'a.b.c', True),
    ('#', '.', True),
    ('*', '', False),
    ('*', 'a', True),
    ('*', 'a.b', False),
    ('*', '.', False),
    ('#.a', 'a', True),
    ('#.a', 'b.a', True),
    ('#.a', 'a.a', True),
    ('#.a', 'a.b', False),
    ('#.a', '.a', True),
    ('#.a', '', False),
    ('a.#', 'a', True),
    ('a.#', 'a.b.c', True),
    ('a.#', 'ab', False),
    ('a.#', 'a.', True),
    ('a.#.b', 'a.b', True),
    ('a.#.b', 'a.x.b', True),
    ('a.#.b', 'a.x.y.b', True),
    ('a.#.b', 'a.b.b', True),
    ('a.#.b', 'a.b.x', False),
    ('a.#.b', 'ab', False),
    ('a.*.b', 'a.b', False),
    ('a.*.b', 'a..b', True),
    ('a.*.b', 'a.x.b', True),
    ('a.*.b', 'a.x.y.b', False),
    ('*.*', 'a.', True),
    ('*.*', '.a', True),
    ('*.*', '.', True),
    ('*.*', 'a', False),
    ('*.*', '..', False),
    ('', '', True),
    ('', 'a', False),
    ('.', '.', True),
    ('.', '', False),
    ('a..b', 'a..b', True),
    ('a..b', 'a.b', False),
    ('#.#', '', True),
    ('#.#', 'a', True),
    ('#.*.#', '', False),
    ('#.*.#', 'a', True),
    ('#.*.#', 'a.b', True),
    ('*.#', '', False),
    ('*.#', 'a', True),
    ('#.*', 'a.b.c', True),
    ('a.*.#', 'a', False),
    ('a.*.#', 'a.b', True),
    ('a.b', 'a.b', True),
    ('a.b', 'a.b.', False),
    ('#.b.#', 'b', True),
    ('#.b.#', 'a.b.c', True),
    ('#.b.#', 'abc', False),
    ('*', '*', True),
    ('#', '#', True),
    ('a.*', 'a.*', True),
    ('a.#.#.b', 'a.b', True),
    ('a.#.#.b', 'a.x.x.x.b', True),
]

# (binding arguments, message headers, routed) as RabbitMQ 3.10.8 answered
HEADERS_CASES = [
    ({'x-match': 'all', 'a': 1}, {'a': 1}, True),
    ({'x-match': 'all', 'a': 1}, {'a': 2}, False),
    ({'x-match': 'all', 'a': 1}, {}, False),
    ({'x-match': 'all', 'a': 1}, None, False),
    ({'x-match': 'all'}, {}, True),
    ({'x-match': 'any'}, {}, False),
    ({'x-match': 'any'}, {'a': 1}, False),
    ({}, {}, True),
    ({}, {'a': 1}, True),
    ({'a': 1, 'b': 2}, {'a': 1}, False),
    ({'a': 1, 'b': 2}, {'a': 1, 'b': 2, 'c': 3}, True),
    ({'x-match': 'any', 'a': 1, 'b': 2}, {'b': 2}, True),
    ({'x-match': 'any', 'a': 1, 'b': 2}, {'b': 3}, False),
    ({'x-match': 'all', 'a': 1}, {'a': '1'}, False),
    ({'x-match': 'all', 'a': 's'}, {'a': 's'}, True),
    ({'x-match': 'all', 'a': True}, {'a': True}, True),
    ({'x-match': 'all', 'a': True}, {'a': 1}, False),
    ({'x-match': 'all', 'a': 1}, {'a': 1.0}, True),
    ({'x-match': 'all', 'a': None}, {'a': 'anything'}, True),
    ({'x-match': 'all', 'a': None}, {}, False),
    ({'x-match': 'any', 'a': None}, {'a': 5}, True),
    ({'x-match': 'all', 'x-foo': 1}, {}, True),
    ({'x-match': 'all', 'x-foo': 1}, {'x-foo': 2}, True),
    ({'x-match': 'all-with-x', 'x-foo': 1}, {'x-foo': 1}, True),
    ({'x-match': 'all-with-x', 'x-foo': 1}, {'x-foo': 2}, False),
    ({'x-match': 'any-with-x', 'x-foo': 1, 'a': 2}, {'x-foo': 1}, True),
    ({'x-match': 'any', 'x-foo': 1}, {'x-foo': 1}, False),
    ({'x-match': 'all', 'n': {'k': 1}}, {'n': {'k': 1}}, True),
    ({'x-match': 'all', 'n': [1, 2]}, {'n': [1, 2]}, True),
    ({'x-match': 'all', 'n': [1, 2]}, {'n': [2, 1]}, False),
    ({'x-match': 'all', 'd': Decimal('1.5')}, {'d': Decimal('1.5')}, True),
    ({'x-match': 'all', 'd': Decimal('1.5')}, {'d': Decimal('1.50')}, False),
    ({'x-match': 'all', 'b': 300}, {'b': 300}, True),
    ({'x-match': 'all', 'z': 1, 'a': 1}, {'a': 1, 'z': 1}, True),
    ({'x-match': 'any', 'z': 1, 'a': 9}, {'a': 1, 'z': 1}, True),
]


@pytest.mark.parametrize("pattern,key,routed", TOPIC_CASES)
def test_topic_patterns(pattern, key, routed):
    exchange = TopicExchange("t")
    queue = Dest("q")
    exchange.add(Binding(exchange, queue, pattern, None))
    assert (exchange.route([key], None) == [queue]) is routed


def test_topic_trie_unbinding_prunes_and_keeps_siblings():
    exchange = TopicExchange("t")
    a, b = Dest("a"), Dest("b")
    first, second = Binding(exchange, a, "x.#.y", None), Binding(exchange, b, "x.*", None)
    exchange.add(first)
    exchange.add(second)
    assert set(d.name for d in exchange.route(["x.y"], None)) == {"a", "b"}
    exchange.remove(first.ident)
    assert exchange.route(["x.q.y"], None) == []
    assert exchange.route(["x.y"], None) == [b]
    exchange.remove(second.ident)
    assert exchange.root.children == {}


def test_topic_many_hashes_stay_fast():
    exchange = TopicExchange("t")
    queue = Dest("q")
    exchange.add(Binding(exchange, queue, "#.#.#.#.#.#.#.#.z", None))
    assert exchange.route([".".join("a" * 40) + ".z"], None) == [queue]
    assert exchange.route(["a." * 60 + "b"], None) == []


def test_split_topic_key():
    assert split_topic_key("") == []
    assert split_topic_key("a.") == ["a", ""]
    assert split_topic_key("..") == ["", "", ""]


@pytest.mark.parametrize("args,headers,routed", HEADERS_CASES)
def test_headers_matching(args, headers, routed):
    exchange = HeadersExchange("h")
    queue = Dest("q")
    exchange.add(Binding(exchange, queue, "", table(args)))
    assert (exchange.route([""], table(headers)) == [queue]) is routed


def test_headers_binding_validation():
    exchange = HeadersExchange("h")
    assert exchange.validate_binding(table({"x-match": "foo"})) == (
        'Invalid x-match field value <<"foo">>; expected all, any, all-with-x, or any-with-x')
    assert exchange.validate_binding(table({"x-match": 5})) == (
        "Invalid x-match field type byte (value 5); expected longstr")
    assert exchange.validate_binding(table({"a": 1})) is None


def test_direct_and_fanout():
    direct, fanout = DirectExchange("d"), FanoutExchange("f")
    a, b = Dest("a"), Dest("b")
    direct.add(Binding(direct, a, "k1", None))
    direct.add(Binding(direct, b, "k2", None))
    assert direct.route(["k1"], None) == [a]
    assert sorted(d.name for d in direct.route(["k1", "k2", "k3"], None)) == ["a", "b"]
    fanout.add(Binding(fanout, a, "ignored", None))
    assert fanout.route(["anything"], None) == [a]


def test_bindings_differ_by_arguments():
    exchange = HeadersExchange("h")
    queue = Dest("q")
    assert exchange.add(Binding(exchange, queue, "", table({"a": 1, "b": 2})))
    assert not exchange.add(Binding(exchange, queue, "", table({"b": 2, "a": 1})))  # same, sorted
    assert exchange.add(Binding(exchange, queue, "", table({"a": 1})))
    assert len(exchange.bindings) == 2


# -- the vhost: e2e bindings, alternate exchanges, default exchange -------------------------
def message(routing_key="k", headers=None):
    from pamqp import commands as C
    from pamqp import header as pheader
    props = pheader.ContentHeader(0, 0, C.Basic.Properties(headers=headers)).marshal()[12:]
    return Message("x", routing_key, props, b"")


@pytest.fixture
def vhost():
    return VHost("/")


def declare(vhost, name, kind="direct", **args):
    return vhost.declare_exchange(name, kind, False, False, False, False, table(args or None))


def queue(vhost, name):
    return vhost.declare_queue(None, name, False, False, False, False, None)


def names(queues):
    return [q.name for q in queues]


def test_exchange_to_exchange_routing(vhost):
    top = declare(vhost, "top", "topic")
    declare(vhost, "mid", "fanout")
    declare(vhost, "leaf", "direct")
    for name in ("q1", "q2", "q3"):
        queue(vhost, name)
    vhost.bind("top", "exchange", "mid", "a.#", None, None)
    vhost.bind("mid", "exchange", "leaf", "", None, None)
    vhost.bind("leaf", "queue", "q2", "a.b", None, None)
    vhost.bind("mid", "queue", "q1", "", None, None)
    vhost.bind("top", "queue", "q3", "#", None, None)
    assert names(vhost.route(top, ["a.b"], message())) == ["q1", "q2", "q3"]
    assert names(vhost.route(top, ["a.c"], message())) == ["q1", "q3"]
    assert names(vhost.route(top, ["z"], message())) == ["q3"]


def test_exchange_cycles_terminate(vhost):
    one, _two = declare(vhost, "one", "fanout"), declare(vhost, "two", "fanout")
    queue(vhost, "q")
    vhost.bind("one", "exchange", "two", "", None, None)
    vhost.bind("two", "exchange", "one", "", None, None)
    vhost.bind("two", "queue", "q", "", None, None)
    assert names(vhost.route(one, ["k"], message())) == ["q"]


def test_alternate_exchange_only_when_nothing_matches(vhost):
    main = declare(vhost, "main", "direct", **{"alternate-exchange": "ae"})
    declare(vhost, "ae", "fanout")
    queue(vhost, "bound")
    queue(vhost, "spill")
    vhost.bind("main", "queue", "bound", "k", None, None)
    vhost.bind("ae", "queue", "spill", "", None, None)
    assert names(vhost.route(main, ["k"], message())) == ["bound"]
    assert names(vhost.route(main, ["other"], message())) == ["spill"]
    vhost.delete_exchange("ae", False)
    assert names(vhost.route(main, ["other"], message())) == []


def test_headers_exchange_behind_a_fanout(vhost):
    fan = declare(vhost, "fan", "fanout")
    declare(vhost, "hdr", "headers")
    queue(vhost, "q")
    vhost.bind("fan", "exchange", "hdr", "", None, None)
    vhost.bind("hdr", "queue", "q", "", table({"x-match": "any", "color": "red"}), None)
    assert names(vhost.route(fan, ["k"], message(headers={"color": "red"}))) == ["q"]
    assert names(vhost.route(fan, ["k"], message(headers={"color": "blue"}))) == []


def test_default_exchange_routes_by_queue_name(vhost):
    queue(vhost, "a")
    queue(vhost, "b")
    default = vhost.exchanges[""]
    assert names(vhost.route(default, ["a"], message())) == ["a"]
    assert names(vhost.route(default, ["b", "a", "missing", "a"], message())) == ["a", "b"]


def test_auto_delete_exchange_goes_with_its_last_binding(vhost):
    vhost.declare_exchange("ad", "direct", False, False, True, False, None)
    queue(vhost, "q")
    vhost.bind("ad", "queue", "q", "k1", None, None)
    vhost.bind("ad", "queue", "q", "k2", None, None)
    vhost.unbind("ad", "queue", "q", "k1", None, None)
    assert "ad" in vhost.exchanges
    vhost.delete_queue(vhost.queues["q"])
    assert "ad" not in vhost.exchanges
