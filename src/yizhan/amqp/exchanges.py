"""Exchanges and their bindings: direct, fanout, topic and headers behind one interface.

An `Exchange` owns the bindings whose source it is and answers `route(routing_keys, headers)`
with the destinations (queues or exchanges) they select. The vhost follows exchange-to-exchange
bindings and alternate exchanges; this module only matches. Binding identity is RabbitMQ's:
source, destination, routing key and the arguments table sorted by key.
"""

from __future__ import annotations

from yizhan.amqp import codec
from yizhan.amqp.codec import FieldTable


def freeze(table: FieldTable | None) -> tuple:
    """A hashable, key-sorted form of an arguments table (rabbit_misc:sort_field_table)."""
    if not table:
        return ()
    entries = sorted(table, key=lambda entry: entry[0].encode("utf-8", "surrogateescape"))
    return tuple((key, kind, _freeze_value(kind, value)) for key, kind, value in entries)


def _freeze_value(kind, value):
    if kind is codec.TABLE:
        return freeze(value)
    if kind is codec.ARRAY:
        return tuple((k, _freeze_value(k, v)) for k, v in value)
    return value


class Binding:
    __slots__ = ("source", "destination", "key", "args", "frozen_args", "ident")

    def __init__(self, source, destination, key: str, args: FieldTable | None):
        self.source = source
        self.destination = destination
        self.key = key
        self.args = args if args is not None else FieldTable()
        self.frozen_args = freeze(args)
        self.ident = (destination.kind, destination.name, key, self.frozen_args)

    def __repr__(self) -> str:
        return (f"Binding({self.source.name!r} -> {self.destination.kind} "
                f"{self.destination.name!r}, {self.key!r})")


class Exchange:
    """Common state; subclasses keep an index of the bindings for their kind of matching."""

    kind = "exchange"
    type_name = ""
    needs_headers = False  # route() reads the message's headers
    delays = False         # route_message() may hold the message (delayed.py)
    equivalence_keys = ("alternate-exchange",)  # arguments a redeclare must repeat

    def __init__(self, name: str, durable: bool = False, auto_delete: bool = False,
                 internal: bool = False, arguments: FieldTable | None = None):
        self.name = name
        self.durable = durable
        self.auto_delete = auto_delete
        self.internal = internal
        self.arguments = arguments if arguments is not None else FieldTable()
        self.bindings: dict[tuple, Binding] = {}   # bindings whose source this is
        self.bound_from: dict[tuple, Binding] = {}  # exchange-to-exchange bindings into this
        self.deleted = False
        self.n_publish_in = self.n_publish_out = 0  # messages in, and routed on (management API)

    @property
    def alternate_exchange(self) -> str | None:
        found = self.arguments.lookup("alternate-exchange")
        if found is None or found[0] is not codec.LONGSTR:
            return None
        return found[1].decode("utf-8", "surrogateescape")

    def add(self, binding: Binding) -> bool:
        """Add a binding; False if an identical one exists."""
        if binding.ident in self.bindings:
            return False
        self.bindings[binding.ident] = binding
        self._index(binding)
        return True

    def remove(self, ident: tuple) -> Binding | None:
        binding = self.bindings.pop(ident, None)
        if binding is not None:
            self._unindex(binding)
        return binding

    def _index(self, binding: Binding) -> None:
        pass

    def _unindex(self, binding: Binding) -> None:
        pass

    def route(self, routing_keys: list[str], headers: FieldTable | None) -> list:
        raise NotImplementedError

    def validate_binding(self, args: FieldTable | None) -> str | None:
        """An error text (PRECONDITION_FAILED) for arguments this type refuses, or None."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class DirectExchange(Exchange):
    type_name = "direct"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_key: dict[str, dict[tuple, Binding]] = {}

    def _index(self, binding: Binding) -> None:
        self.by_key.setdefault(binding.key, {})[binding.ident] = binding

    def _unindex(self, binding: Binding) -> None:
        group = self.by_key.get(binding.key)
        if group is not None:
            group.pop(binding.ident, None)
            if not group:
                del self.by_key[binding.key]

    def route(self, routing_keys, headers):
        by_key = self.by_key
        if len(routing_keys) == 1:
            group = by_key.get(routing_keys[0])
            return [b.destination for b in group.values()] if group else []
        return [b.destination for key in routing_keys for b in by_key.get(key, {}).values()]


class FanoutExchange(Exchange):
    type_name = "fanout"

    def route(self, routing_keys, headers):
        return [b.destination for b in self.bindings.values()]


class _TrieNode:
    __slots__ = ("children", "bindings")

    def __init__(self):
        self.children: dict[str, _TrieNode] = {}
        self.bindings: dict[tuple, Binding] = {}


def split_topic_key(key: str) -> list[str]:
    """rabbit_exchange_type_topic:split_topic_key: "" has no words, "a." has two."""
    return key.split(".") if key else []


class TopicExchange(Exchange):
    """RabbitMQ's topic trie: `*` matches one word (possibly empty), `#` zero or more."""

    type_name = "topic"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = _TrieNode()

    def _index(self, binding: Binding) -> None:
        node = self.root
        for word in split_topic_key(binding.key):
            node = node.children.setdefault(word, _TrieNode())
        node.bindings[binding.ident] = binding

    def _unindex(self, binding: Binding) -> None:
        path = [self.root]
        for word in split_topic_key(binding.key):
            node = path[-1].children.get(word)
            if node is None:
                return
            path.append(node)
        path[-1].bindings.pop(binding.ident, None)
        words = split_topic_key(binding.key)
        for depth in range(len(words), 0, -1):
            node = path[depth]
            if node.bindings or node.children:
                break
            del path[depth - 1].children[words[depth - 1]]

    def route(self, routing_keys, headers):
        found: dict[tuple, Binding] = {}
        for key in routing_keys:
            self._match(self.root, split_topic_key(key), 0, found, set())
        return [b.destination for b in found.values()]

    def _match(self, node: _TrieNode, words: list[str], index: int, found: dict, seen: set) -> None:
        state = (id(node), index)
        if state in seen:
            return
        seen.add(state)
        children = node.children
        if index == len(words):
            found.update(node.bindings)
            hash_node = children.get("#")
            if hash_node is not None:
                self._match(hash_node, words, index, found, seen)
            return
        child = children.get(words[index])
        if child is not None:
            self._match(child, words, index + 1, found, seen)
        child = children.get("*")
        if child is not None:
            self._match(child, words, index + 1, found, seen)
        child = children.get("#")
        if child is not None:
            for skip in range(index, len(words) + 1):
                self._match(child, words, skip, found, seen)


X_MATCH_VALUES = {b"all": "all", b"any": "any", b"all-with-x": "all_with_x",
                  b"any-with-x": "any_with_x"}


def erlang_equal(a, b) -> bool:
    """Erlang's == for field values: numbers compare by value (1 == 1.0), booleans are atoms."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def headers_match(args: tuple, data: list) -> bool:
    """rabbit_exchange_type_headers:headers_match over key-sorted binding args and headers."""
    match = X_MATCH_VALUES.get(_lookup_x_match(args), "all")
    with_x = match in ("all_with_x", "any_with_x")
    want_all = match in ("all", "all_with_x")
    all_match, any_match = True, False
    p, d = 0, 0
    while True:
        if want_all and not all_match:
            return False
        if not want_all and any_match:
            return True
        if p == len(args):
            return all_match if want_all else any_match
        pkey, pkind, pvalue = args[p]
        if pkey == "x-match" or (not with_x and pkey.startswith("x-")):
            p += 1
            continue
        if d == len(data):
            all_match = False
            p = len(args)
            continue
        dkey, _dkind, dvalue = data[d]
        pk, dk = _sort_key(pkey), _sort_key(dkey)
        if pk > dk:
            d += 1
        elif pk < dk:
            all_match = False
            p += 1
        elif pkind is codec.VOID or erlang_equal(pvalue, dvalue):
            any_match = True
            p += 1
            d += 1
        else:
            all_match = False
            p += 1
            d += 1


def _sort_key(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


def _lookup_x_match(args: tuple):
    for key, kind, value in args:
        if key == "x-match":
            return value if kind is codec.LONGSTR else None
    return None


class HeadersExchange(Exchange):
    type_name = "headers"
    needs_headers = True

    def route(self, routing_keys, headers):
        data = sorted(headers or (), key=lambda entry: _sort_key(entry[0]))
        data = [(key, kind, _freeze_value(kind, value)) for key, kind, value in data]
        return [b.destination for b in self.bindings.values() if headers_match(b.frozen_args, data)]

    def validate_binding(self, args):
        found = args.lookup("x-match") if args else None
        if found is None:
            return None
        kind, value = found
        from yizhan.amqp import erlang
        if kind is not codec.LONGSTR:
            return (f"Invalid x-match field type {erlang.write(kind)} (value "
                    f"{erlang.write(value)}); expected longstr")
        if value not in X_MATCH_VALUES:
            return (f"Invalid x-match field value {erlang.write(value)}; "
                    "expected all, any, all-with-x, or any-with-x")
        return None


TYPES = {cls.type_name: cls for cls in (DirectExchange, FanoutExchange, TopicExchange,
                                          HeadersExchange)}
CREATE_CHECKS: dict = {}  # type name -> its argument check when an exchange is made (validate/1)


def new_exchange(type_name: str, name: str, **flags) -> Exchange:
    return TYPES[type_name](name, **flags)
