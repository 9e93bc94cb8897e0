"""Sans-IO RESP2/RESP3: `RequestParser` turns bytes into commands, `encode` turns replies into bytes."""

from yizhan.resp.parser import ProtocolError, RequestParser
from yizhan.resp.encoder import (
    NULL_ARRAY,
    OK,
    QUEUED,
    ErrorReply,
    Many,
    Push,
    Raw,
    ReplySet,
    Simple,
    Verbatim,
    encode,
)

__all__ = [
    "NULL_ARRAY", "OK", "QUEUED", "ErrorReply", "Many", "ProtocolError", "Push", "Raw", "ReplySet", "RequestParser",
    "Simple", "Verbatim", "encode",
]
