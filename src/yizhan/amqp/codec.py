"""AMQP 0-9-1 wire format, sans-IO: frames in and out, method arguments, field tables and the
basic content properties.

The method classes and their argument lists come from pamqp's generated spec (`pamqp.commands`);
decoding and encoding are done here because RabbitMQ's behaviour depends on details pamqp hides:
field tables keep each value's type tag (RabbitMQ compares arguments by type and names the type
in its errors), short strings are arbitrary bytes (names need not be UTF-8; a non-content method
with malformed UTF-8 is a frame error), and a method must use exactly its bytes. Server-sent
methods are encoded without pamqp's name validation, which RabbitMQ does not have either.

The content-header properties of a published message are kept as the client's raw bytes and sent
on unchanged; `decode_properties` reads them only when routing or checks need a value.
"""

from __future__ import annotations

import struct

from pamqp import commands as spec

from yizhan.amqp.erlang import Atom

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE
FRAME_END_BYTE = b"\xce"
EMPTY_FRAME_SIZE = 8
FRAME_MIN_SIZE = 4096
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
HEARTBEAT_FRAME = b"\x08\x00\x00\x00\x00\x00\x00\xce"
BASIC_CLASS = 60

_frame_header = struct.Struct(">BHI")
_ushort = struct.Struct(">H")
_short = struct.Struct(">h")
_uint = struct.Struct(">I")
_int = struct.Struct(">i")
_ulong = struct.Struct(">Q")
_long = struct.Struct(">q")
_double = struct.Struct(">d")
_float = struct.Struct(">f")
_method_id = struct.Struct(">HH")
_content_header = struct.Struct(">HHQ")
FRAME_HEADER_STRUCT, UINT_STRUCT, ULONG_STRUCT, CONTENT_HEADER_STRUCT = (
    _frame_header, _uint, _ulong, _content_header)


class DecodeError(Exception):
    """Method arguments that are not exactly the method's layout (RabbitMQ: "cannot decode")."""


class TableError(Exception):
    """A field table RabbitMQ's parser cannot read (an unknown type tag): RabbitMQ's reader
    crashes on it and the connection is dropped."""


class Utf8Error(Exception):
    """A short string of a non-content method that is not valid UTF-8."""


# -- field tables ---------------------------------------------------------------------------
LONGSTR = Atom("longstr")
SIGNEDINT = Atom("signedint")
UNSIGNEDINT = Atom("unsignedint")
DECIMAL = Atom("decimal")
TIMESTAMP = Atom("timestamp")
TABLE = Atom("table")
BYTE = Atom("byte")
UNSIGNEDBYTE = Atom("unsignedbyte")
SHORT = Atom("short")
UNSIGNEDSHORT = Atom("unsignedshort")
DOUBLE = Atom("double")
FLOAT = Atom("float")
LONG = Atom("long")
BOOL = Atom("bool")
ARRAY = Atom("array")
BINARY = Atom("binary")
VOID = Atom("void")

_FIXED = {  # tag byte -> (type, struct)
    ord("T"): (TIMESTAMP, _ulong), ord("b"): (BYTE, struct.Struct(">b")),
    ord("B"): (UNSIGNEDBYTE, struct.Struct(">B")), ord("s"): (SHORT, _short),
    ord("u"): (UNSIGNEDSHORT, _ushort), ord("I"): (SIGNEDINT, _int), ord("i"): (UNSIGNEDINT, _uint),
    ord("d"): (DOUBLE, _double), ord("f"): (FLOAT, _float), ord("l"): (LONG, _long),
    ord("L"): (LONG, _long),
}
_TAG_OF = {LONGSTR: b"S", SIGNEDINT: b"I", UNSIGNEDINT: b"i", DECIMAL: b"D", TIMESTAMP: b"T",
           TABLE: b"F", BYTE: b"b", UNSIGNEDBYTE: b"B", SHORT: b"s", UNSIGNEDSHORT: b"u",
           DOUBLE: b"d", FLOAT: b"f", LONG: b"l", BOOL: b"t", ARRAY: b"A", BINARY: b"x", VOID: b"V"}
_STRUCT_OF = {kind: st for kind, st in _FIXED.values()}


class FieldTable(list):
    """A field table as RabbitMQ holds it: a list of (name, type, value) in wire order, where
    type is the RabbitMQ type name (`longstr`, `signedint`, ...). Strings and byte arrays are
    bytes, tables are FieldTables, arrays lists of (type, value), decimals (scale, value)."""

    __slots__ = ()

    def lookup(self, name: str):
        """(type, value) of the first entry called `name`, or None (rabbit_misc:table_lookup)."""
        for key, kind, value in self:
            if key == name:
                return kind, value
        return None

    def value(self, name: str, default=None):
        found = self.lookup(name)
        return default if found is None else found[1]

    def to_python(self) -> dict:
        return {key: _plain(kind, value) for key, kind, value in self}


def _plain(kind, value):
    if kind is TABLE:
        return value.to_python()
    if kind is ARRAY:
        return [_plain(k, v) for k, v in value]
    return value


def decode_table(data: bytes) -> FieldTable:
    table = FieldTable()
    pos, end = 0, len(data)
    try:
        while pos < end:
            size = data[pos]
            key = data[pos + 1:pos + 1 + size]
            if len(key) != size:
                raise TableError("truncated field name")
            kind, value, pos = _decode_value(data, pos + 1 + size)
            table.append((key.decode("utf-8", "surrogateescape"), kind, value))
    except (IndexError, struct.error):
        raise TableError("truncated field table") from None
    return table


def _decode_array(data: bytes) -> list:
    items = []
    pos, end = 0, len(data)
    try:
        while pos < end:
            kind, value, pos = _decode_value(data, pos)
            items.append((kind, value))
    except (IndexError, struct.error):
        raise TableError("truncated field array") from None
    return items


def _decode_value(data: bytes, pos: int):
    tag = data[pos]
    pos += 1
    fixed = _FIXED.get(tag)
    if fixed is not None:
        kind, st = fixed
        return kind, st.unpack_from(data, pos)[0], pos + st.size
    if tag == 0x53 or tag == 0x78 or tag == 0x46 or tag == 0x41:  # S x F A
        size = _uint.unpack_from(data, pos)[0]
        raw = data[pos + 4:pos + 4 + size]
        if len(raw) != size:
            raise TableError("truncated value")
        pos += 4 + size
        if tag == 0x53:
            return LONGSTR, bytes(raw), pos
        if tag == 0x78:
            return BINARY, bytes(raw), pos
        if tag == 0x46:
            return TABLE, decode_table(raw), pos
        return ARRAY, _decode_array(raw), pos
    if tag == 0x74:  # t
        return BOOL, data[pos] != 0, pos + 1
    if tag == 0x44:  # D
        scale = data[pos]
        return DECIMAL, (scale, _uint.unpack_from(data, pos + 1)[0]), pos + 5
    if tag == 0x56:  # V
        return VOID, None, pos
    raise TableError(f"unknown field type {tag}")


def encode_table(table) -> bytes:
    """A FieldTable with its types, or a plain dict (str, bytes, bool, int, dict values)."""
    if isinstance(table, FieldTable):
        parts = [_name(key) + _encode_value(kind, value) for key, kind, value in table]
    else:
        parts = [_name(key) + _encode_plain(value) for key, value in (table or {}).items()]
    payload = b"".join(parts)
    return _uint.pack(len(payload)) + payload


def _name(key: str) -> bytes:
    raw = key.encode("utf-8", "surrogateescape")
    return bytes((len(raw),)) + raw


def _encode_value(kind, value) -> bytes:
    tag = _TAG_OF[kind]
    if kind is LONGSTR or kind is BINARY:
        return tag + _uint.pack(len(value)) + value
    if kind is TABLE:
        return tag + encode_table(value)
    if kind is ARRAY:
        payload = b"".join(_encode_value(k, v) for k, v in value)
        return tag + _uint.pack(len(payload)) + payload
    if kind is BOOL:
        return tag + (b"\x01" if value else b"\x00")
    if kind is DECIMAL:
        return tag + bytes((value[0],)) + _uint.pack(value[1])
    if kind is VOID:
        return tag
    return tag + _STRUCT_OF[kind].pack(value)


def _encode_plain(value) -> bytes:
    if isinstance(value, bool):
        return b"t" + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        return b"l" + _long.pack(value)
    if isinstance(value, dict):
        return b"F" + encode_table(value)
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    return b"S" + _uint.pack(len(raw)) + raw


# -- methods --------------------------------------------------------------------------------
class _Access:
    """access.request/request-ok: RabbitMQ still answers them; pamqp 3+ dropped the class."""

    class Request(spec.base.Frame):
        __slots__ = ["realm", "exclusive", "passive", "active", "write", "read"]
        name = "Access.Request"
        index = 0x001E000A
        synchronous = True
        _realm = "shortstr"
        _exclusive = _passive = _active = _write = _read = "bit"

    class RequestOk(spec.base.Frame):
        __slots__ = ["ticket"]
        name = "Access.RequestOk"
        index = 0x001E000B
        _ticket = "short"


Access = _Access


class MethodSpec:
    __slots__ = ("cls", "name", "index", "ids", "fields", "has_content", "check_utf8")

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.name
        self.index = cls.index
        self.ids = (cls.index >> 16, cls.index & 0xFFFF)
        self.fields = [(attr, cls.amqp_type(attr)) for attr in cls.__slots__]
        self.has_content = cls in (spec.Basic.Publish, spec.Basic.Return, spec.Basic.Deliver,
                                   spec.Basic.GetOk)
        self.check_utf8 = not self.has_content and any(t == "shortstr" for _, t in self.fields)


SPECS: dict[int, MethodSpec] = {}
for _cls in list(spec.INDEX_MAPPING.values()) + [Access.Request, Access.RequestOk]:
    SPECS[_cls.index] = MethodSpec(_cls)
SPEC_OF = {s.cls: s for s in SPECS.values()}


def method_ids(method) -> tuple[int, int]:
    return SPEC_OF[type(method)].ids


def new(cls, **values):
    """A method object without pamqp's argument validation (which RabbitMQ does not do)."""
    method = cls.__new__(cls)
    for attr, kind in SPEC_OF[cls].fields:
        setattr(method, attr, values.get(attr, _DEFAULTS[kind]))
    return method


_DEFAULTS = {"bit": False, "octet": 0, "short": 0, "long": 0, "longlong": 0, "shortstr": "",
             "longstr": b"", "table": None}


def lookup_method(payload: bytes) -> MethodSpec | None:
    """The spec of a method frame's payload, or None for an unknown class/method id."""
    return SPECS.get(_uint.unpack_from(payload)[0])


def _decode_publish(payload: bytes):
    """basic.publish, the hot path: ticket, exchange, routing key, mandatory/immediate bits."""
    try:
        size = payload[6]
        end = 7 + size
        exchange = payload[7:end]
        size2 = payload[end]
        key_end = end + 1 + size2
        routing_key = payload[end + 1:key_end]
        bits = payload[key_end]
    except IndexError:
        raise DecodeError from None
    if key_end + 1 != len(payload) or len(exchange) != size or len(routing_key) != size2:
        raise DecodeError
    method = _Publish.__new__(_Publish)
    method.ticket = payload[4] << 8 | payload[5]
    method.exchange = exchange.decode("utf-8", "surrogateescape")
    method.routing_key = routing_key.decode("utf-8", "surrogateescape")
    method.mandatory = bool(bits & 1)
    method.immediate = bool(bits & 2)
    return method


def _decode_ack(payload: bytes):
    if len(payload) != 13:
        raise DecodeError
    method = _Ack.__new__(_Ack)
    method.delivery_tag = _ulong.unpack_from(payload, 4)[0]
    method.multiple = bool(payload[12] & 1)
    return method


_Publish, _Ack = spec.Basic.Publish, spec.Basic.Ack
_FAST_DECODERS = {_Publish.index: _decode_publish, _Ack.index: _decode_ack}


def decode_method(method_spec: MethodSpec, payload: bytes):
    """Decode a method frame's payload (ids included) into a pamqp method object.

    Raises DecodeError, TableError or Utf8Error."""
    fast = _FAST_DECODERS.get(method_spec.index)
    if fast is not None:
        return fast(payload)
    method = method_spec.cls.__new__(method_spec.cls)
    data = payload
    pos, end = 4, len(data)
    bits, bit = 0, 8
    try:
        for attr, kind in method_spec.fields:
            if kind == "bit":
                if bit == 8:
                    bits, bit, pos = data[pos], 0, pos + 1
                setattr(method, attr, bool(bits >> bit & 1))
                bit += 1
                continue
            bit = 8
            if kind == "shortstr":
                size = data[pos]
                raw = data[pos + 1:pos + 1 + size]
                if len(raw) != size:
                    raise DecodeError
                pos += 1 + size
                if method_spec.check_utf8:
                    try:
                        value = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise Utf8Error from None
                else:
                    value = raw.decode("utf-8", "surrogateescape")
            elif kind == "longstr" or kind == "table":
                size = _uint.unpack_from(data, pos)[0]
                raw = data[pos + 4:pos + 4 + size]
                if len(raw) != size:
                    raise DecodeError
                pos += 4 + size
                value = decode_table(raw) if kind == "table" else bytes(raw)
            elif kind == "octet":
                value, pos = data[pos], pos + 1
            elif kind == "short":
                value, pos = _ushort.unpack_from(data, pos)[0], pos + 2
            elif kind == "long":
                value, pos = _uint.unpack_from(data, pos)[0], pos + 4
            else:  # longlong
                value, pos = _ulong.unpack_from(data, pos)[0], pos + 8
            setattr(method, attr, value)
    except (IndexError, struct.error):
        raise DecodeError from None
    if pos != end:
        raise DecodeError
    return method


_SHORTSTR_CACHE: dict = {}


def cached_shortstr(value: str) -> bytes:
    """shortstr() for names that repeat (exchanges, routing keys), memoised."""
    found = _SHORTSTR_CACHE.get(value)
    if found is None:
        if len(_SHORTSTR_CACHE) > 4096:
            _SHORTSTR_CACHE.clear()
        found = _SHORTSTR_CACHE[value] = shortstr(value)
    return found


def shortstr(value) -> bytes:
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    if len(raw) > 255:
        raise ValueError(f"short string of {len(raw)} bytes")
    return bytes((len(raw),)) + raw


def encode_method(method) -> bytes:
    """The payload of a method frame: class and method ids, then the arguments."""
    method_spec = SPEC_OF[type(method)]
    parts = [_uint.pack(method_spec.index)]
    bits, bit = 0, -1
    for attr, kind in method_spec.fields:
        value = getattr(method, attr)
        if kind == "bit":
            if bit == -1:
                bits, bit = 0, 0
            if value:
                bits |= 1 << bit
            bit += 1
            if bit == 8:
                parts.append(bytes((bits,)))
                bit = -1
            continue
        if bit != -1:
            parts.append(bytes((bits,)))
            bit = -1
        if kind == "shortstr":
            parts.append(shortstr(value))
        elif kind == "longstr":
            raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
            parts.append(_uint.pack(len(raw)) + raw)
        elif kind == "table":
            parts.append(encode_table(value))
        elif kind == "octet":
            parts.append(bytes((value,)))
        elif kind == "short":
            parts.append(_ushort.pack(value))
        elif kind == "long":
            parts.append(_uint.pack(value))
        else:
            parts.append(_ulong.pack(value))
    if bit != -1:
        parts.append(bytes((bits,)))
    return b"".join(parts)


def frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    return _frame_header.pack(frame_type, channel, len(payload)) + payload + FRAME_END_BYTE


def method_frame(channel: int, method) -> bytes:
    return frame(FRAME_METHOD, channel, encode_method(method))


# -- hot path: publish in, deliver/ack out ----------------------------------------------------
_DELIVER_IDS = _uint.pack(spec.Basic.Deliver.index)
_GETOK_IDS = _uint.pack(spec.Basic.GetOk.index)
_RETURN_IDS = _uint.pack(spec.Basic.Return.index)
_ACK_IDS = _uint.pack(spec.Basic.Ack.index)
_NACK_IDS = _uint.pack(spec.Basic.Nack.index)
_tag_bit = struct.Struct(">QB")


def deliver_payload(consumer_tag: bytes, delivery_tag: int, redelivered: bool,
                    exchange: bytes, routing_key: bytes) -> bytes:
    """basic.deliver's payload from pre-encoded short strings."""
    return b"".join((_DELIVER_IDS, consumer_tag, _tag_bit.pack(delivery_tag, redelivered),
                     exchange, routing_key))


_content_head = struct.Struct(">BBHIHHQ")  # frame end, header frame (type, channel, size), class,
_body_head = struct.Struct(">BBHI")         # weight, body size; frame end, body frame head


def deliver_frames(channel: int, consumer_tag: bytes, delivery_tag: int, redelivered: bool,
                   exchange: bytes, routing_key: bytes, properties: bytes, body: bytes,
                   frame_max: int) -> bytes:
    """basic.deliver with its content header and body as one bytes object, from pre-encoded
    short strings; a body that needs several frames (or none) goes through `content_frames`."""
    size = len(body)
    if not size or (frame_max and size > frame_max - EMPTY_FRAME_SIZE):
        return content_frames(channel, deliver_payload(consumer_tag, delivery_tag, redelivered,
                                                       exchange, routing_key),
                              size, properties, body, frame_max)
    return b"".join((
        _frame_header.pack(FRAME_METHOD, channel,
                           13 + len(consumer_tag) + len(exchange) + len(routing_key)),
        _DELIVER_IDS, consumer_tag, _tag_bit.pack(delivery_tag, redelivered), exchange, routing_key,
        _content_head.pack(FRAME_END, FRAME_HEADER, channel, 12 + len(properties), BASIC_CLASS, 0,
                           size),
        properties, _body_head.pack(FRAME_END, FRAME_BODY, channel, size), body, FRAME_END_BYTE))


def get_ok_payload(delivery_tag: int, redelivered: bool, exchange: bytes, routing_key: bytes,
                   message_count: int) -> bytes:
    return b"".join((_GETOK_IDS, _tag_bit.pack(delivery_tag, redelivered), exchange, routing_key,
                     _uint.pack(message_count)))


def return_payload(reply_code: int, reply_text: bytes, exchange: bytes, routing_key: bytes) -> bytes:
    return b"".join((_RETURN_IDS, _ushort.pack(reply_code), reply_text, exchange, routing_key))


def ack_frame(channel: int, delivery_tag: int, multiple: bool, nack: bool = False) -> bytes:
    payload = (_NACK_IDS + _tag_bit.pack(delivery_tag, multiple) if nack
               else _ACK_IDS + _tag_bit.pack(delivery_tag, multiple))
    return frame(FRAME_METHOD, channel, payload)


def content_frames(channel: int, method_payload: bytes, body_size: int, properties: bytes,
                   body: bytes, frame_max: int) -> bytes:
    """A method with content: method frame, header frame, and the body split at frame_max."""
    parts = [_frame_header.pack(FRAME_METHOD, channel, len(method_payload)), method_payload,
             FRAME_END_BYTE]
    header = _content_header.pack(BASIC_CLASS, 0, body_size)
    parts += [_frame_header.pack(FRAME_HEADER, channel, len(header) + len(properties)), header,
              properties, FRAME_END_BYTE]
    chunk = (frame_max - EMPTY_FRAME_SIZE) if frame_max else len(body) or 1
    if len(body) <= chunk:
        if body:
            parts += [_frame_header.pack(FRAME_BODY, channel, len(body)), body, FRAME_END_BYTE]
    else:
        view = memoryview(body)
        for start in range(0, len(body), chunk):
            piece = view[start:start + chunk]
            parts += [_frame_header.pack(FRAME_BODY, channel, len(piece)), piece, FRAME_END_BYTE]
    return b"".join(parts)


def parse_content_header(payload: bytes):
    """(class_id, weight, body_size, raw properties) of a content header frame, or None when the
    payload is shorter than 12 bytes (RabbitMQ: an unknown frame)."""
    if len(payload) < 12:
        return None
    class_id, weight, body_size = _content_header.unpack_from(payload)
    return class_id, weight, body_size, bytes(payload[12:])


# -- frames in ------------------------------------------------------------------------------
class FrameTooLarge(Exception):
    def __init__(self, frame_type: int, size: int, limit: int):
        super().__init__(frame_type, size, limit)
        self.frame_type, self.size, self.limit = frame_type, size, limit


class BadFrameEnd(Exception):
    def __init__(self, frame_type: int, payload: bytes, marker: int):
        super().__init__(frame_type, marker)
        self.frame_type, self.payload, self.marker = frame_type, payload, marker


class FrameReader:
    """Splits a byte stream into (type, channel, payload) frames. `frame_max` limits the
    payload as RabbitMQ does (it allows the 8 framing bytes as slack: payload <= frame_max).

    `buffer` is an immutable bytes object, so frames and their parts are sliced out of it with
    one copy: usually the read itself (reads mostly end on a frame boundary); a partial frame
    left over is joined with the next read; a large frame arriving in many reads is collected
    in `pieces` and joined once, when it is complete."""

    __slots__ = ("buffer", "pos", "frame_max", "pieces", "held", "wanted")

    def __init__(self, frame_max: int = FRAME_MIN_SIZE):
        self.buffer = b""
        self.pos = 0
        self.frame_max = frame_max
        self.pieces: list | None = None
        self.held = 0
        self.wanted = 0  # bytes the frame at pos needs, when `next` last found it incomplete

    def feed(self, data: bytes) -> None:
        data = bytes(data)
        pieces = self.pieces
        if pieces is not None:
            pieces.append(data)
            self.held += len(data)
            if self.held < self.wanted:
                return
            self.buffer = b"".join(pieces)
            self.pieces = None
        else:
            rest = len(self.buffer) - self.pos
            if not rest:
                self.buffer = data
            elif rest >= 7 and rest + len(data) < self.wanted:
                self.pieces = [self.buffer[self.pos:], data]
                self.held = rest + len(data)
                self.buffer = b""
            else:
                self.buffer = self.buffer[self.pos:] + data
        self.pos = 0
        self.wanted = 0

    def next(self):
        """The next complete frame, or None when more bytes are needed.

        Raises FrameTooLarge or BadFrameEnd; the stream cannot be resynchronised after them."""
        buffer, pos = self.buffer, self.pos
        if len(buffer) - pos < 7:
            return None
        frame_type, channel, size = _frame_header.unpack_from(buffer, pos)
        if self.frame_max and size > self.frame_max:
            raise FrameTooLarge(frame_type, size, self.frame_max - EMPTY_FRAME_SIZE)
        end = pos + 7 + size
        if len(buffer) <= end:
            self.wanted = end + 1 - pos
            return None
        payload = buffer[pos + 7:end]
        if buffer[end] != FRAME_END:
            raise BadFrameEnd(frame_type, payload, buffer[end])
        self.pos = end + 1
        return frame_type, channel, payload

    def take_rest(self) -> bytes:
        rest = b"".join([self.buffer[self.pos:], *(self.pieces or ())])
        self.buffer = b""
        self.pieces = None
        self.pos = 0
        return rest


# -- content properties ---------------------------------------------------------------------
PROPERTY_FIELDS = [
    ("content_type", "shortstr"), ("content_encoding", "shortstr"), ("headers", "table"),
    ("delivery_mode", "octet"), ("priority", "octet"), ("correlation_id", "shortstr"),
    ("reply_to", "shortstr"), ("expiration", "shortstr"), ("message_id", "shortstr"),
    ("timestamp", "timestamp"), ("type", "shortstr"), ("user_id", "shortstr"),
    ("app_id", "shortstr"), ("cluster_id", "shortstr"),
]
_PROPERTY_BITS = [(1 << (15 - index), name, kind) for index, (name, kind) in enumerate(PROPERTY_FIELDS)]
FLAG_HEADERS = 1 << 13
FLAG_EXPIRATION = 1 << 8
FLAG_USER_ID = 1 << 4
FLAG_REPLY_TO = 1 << 9


class Properties:
    """Decoded basic properties; absent ones are None (class defaults, so decoding sets only
    what is present). Short strings are bytes here."""

    content_type = content_encoding = headers = delivery_mode = priority = None
    correlation_id = reply_to = expiration = message_id = timestamp = None
    type = user_id = app_id = cluster_id = None

    def __init__(self, **values):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        shown = {n: getattr(self, n) for n, _ in PROPERTY_FIELDS if getattr(self, n) is not None}
        return f"Properties({shown})"


def property_flags(raw: bytes) -> int:
    return _ushort.unpack_from(raw)[0] if len(raw) >= 2 else 0


def decode_properties(raw: bytes) -> Properties:
    """RabbitMQ's decode_properties: 14 presence bits, then the present values; the two low
    flag bits are ignored and trailing bytes are an error. Raises DecodeError or TableError."""
    props = Properties()
    values = props.__dict__
    try:
        flags = _ushort.unpack_from(raw)[0] & 0xFFFC
        pos = 2
        for bit, name, kind in _PROPERTY_BITS:
            if not flags:
                break
            if not flags & bit:
                continue
            flags ^= bit
            if kind == "shortstr":
                size = raw[pos]
                value = bytes(raw[pos + 1:pos + 1 + size])
                if len(value) != size:
                    raise DecodeError
                pos += 1 + size
            elif kind == "table":
                size = _uint.unpack_from(raw, pos)[0]
                body = raw[pos + 4:pos + 4 + size]
                if len(body) != size:
                    raise DecodeError
                value = decode_table(body)
                pos += 4 + size
            elif kind == "octet":
                value, pos = raw[pos], pos + 1
            else:
                value, pos = _ulong.unpack_from(raw, pos)[0], pos + 8
            values[name] = value
    except (IndexError, struct.error):
        raise DecodeError from None
    if pos != len(raw):
        raise DecodeError
    return props


def encode_properties(props: Properties) -> bytes:
    flags = 0
    parts = []
    for index, (name, kind) in enumerate(PROPERTY_FIELDS):
        value = getattr(props, name)
        if value is None:
            continue
        flags |= 1 << (15 - index)
        if kind == "shortstr":
            parts.append(shortstr(value))
        elif kind == "table":
            parts.append(encode_table(value))
        elif kind == "octet":
            parts.append(bytes((value,)))
        else:
            parts.append(_ulong.pack(value))
    return _ushort.pack(flags) + b"".join(parts)

