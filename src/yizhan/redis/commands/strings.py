"""String commands: the value is `bytes` (or `bytearray` once changed in place)."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import INT64_MAX, Args, parse_int
from yizhan.redis.table import command
from yizhan.resp import OK, ErrorReply


@command("GET key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key")
def get(c, argv):
    return c.db.get_string(argv[1])


def parse_expiry(args: Args, option: bytes, command_name: str, now_ms: int) -> int:
    """The absolute expiry in ms for EX/PX/EXAT/PXAT; Redis's errors for bad values."""
    value = args.next_int()
    if value <= 0:
        raise ErrorReply(errors.invalid_expire(command_name))
    if option in (b"EX", b"EXAT"):
        if value > INT64_MAX // 1000:
            raise ErrorReply(errors.invalid_expire(command_name))
        value *= 1000
    if option in (b"EX", b"PX"):
        if value > INT64_MAX - now_ms:
            raise ErrorReply(errors.invalid_expire(command_name))
        value += now_ms
    return value


@command("SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
         "PXAT unix-time-milliseconds | KEEPTTL]", arity=-3, flags="write denyoom", keys=(1, 1, 1),
         group="string", summary="Set the string value of a key", complexity="O(1)")
def set_(c, argv):
    args = Args(argv, 3)
    condition = None
    get_old = keep_ttl = False
    expiry_option = None
    when = None
    while args:
        option = args.next_option()
        if option in (b"NX", b"XX") and condition is None:
            condition = option
        elif option == b"GET" and not get_old:
            get_old = True
        elif option == b"KEEPTTL" and expiry_option is None:
            keep_ttl = True
            expiry_option = option
        elif option in (b"EX", b"PX", b"EXAT", b"PXAT") and expiry_option is None and args:
            expiry_option = option
            when = parse_expiry(args, option, "set", c.server.clock.ms())
        else:
            raise ErrorReply(errors.SYNTAX)
    db, key = c.db, argv[1]
    old = db.get_string(key) if get_old else db.get(key, touch=False)
    exists = old is not None
    if (condition == b"NX" and exists) or (condition == b"XX" and not exists):
        return old if get_old else None
    db.set(key, argv[2], keep_ttl=keep_ttl)
    if when is not None:
        db.set_expire(key, when)
    return old if get_old else OK
