"""Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import Args, parse_int
from yizhan.redis import pause
from yizhan.redis.instance import REDIS_VERSION
from yizhan.redis.session import NO_REPLY, REPLY_OFF, REPLY_ON, REPLY_SKIP_NEXT, client_line
from yizhan.redis.table import command, container, help_reply
from yizhan.resp import OK, ErrorReply, ReplySet, Simple, Verbatim
from yizhan.resp.encoder import PONG


@command("PING [message]", arity=-1, flags="fast", group="connection", summary="Ping the server",
         tips="request_policy:all_shards response_policy:all_succeeded")
def ping(c, argv):
    if len(argv) > 2:
        raise ErrorReply(errors.wrong_arity("ping"))
    if c.proto == 2 and c.subscription_count:
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return PONG if len(argv) == 1 else argv[1]


@command("ECHO message", arity=2, flags="loading stale fast", group="connection", summary="Echo the given string")
def echo(c, argv):
    return argv[1]


@command("SELECT index", arity=2, flags="loading stale fast", group="connection", since="1.0.0",
         summary="Change the selected database for the current connection")
def select(c, argv):
    index = parse_int(argv[1])
    if not 0 <= index < len(c.server.dbs):
        raise ErrorReply(errors.OUT_OF_RANGE_DB)
    c.select(index)
    return OK


@command("QUIT", arity=-1, flags="allow_busy noscript loading stale fast no_auth", group="connection", summary="Close the connection")
def quit_(c, argv):
    c.close_after_reply = True
    return OK


def check_password(c, argv0: bytes, username: bytes, password: bytes) -> None:
    """Authenticate `c` as `username`, or raise WRONGPASS (ACLAuthenticateUser; the ACL log
    names the command as it was typed, `argv0`)."""
    c.server.acl.authenticate(c, username, password, argv0)


@command("AUTH [username] password", arity=-2, flags="allow_busy noscript loading stale fast no_auth",
         group="connection", since="1.0.0", summary="Authenticate to the server")
def auth(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.SYNTAX)
    if len(argv) == 2:
        if c.server.acl.default.nopass:
            raise ErrorReply(errors.AUTH_NOT_CONFIGURED)
        check_password(c, argv[0], b"default", argv[1])
    else:
        check_password(c, argv[0], argv[1], argv[2])
    return OK


@command("HELLO [protover [AUTH username password] [SETNAME clientname]]", arity=-1,
         flags="allow_busy noscript loading stale fast no_auth", group="connection", since="6.0.0",
         summary="Handshake with Redis")
def hello(c, argv):
    proto = c.proto
    args = Args(argv)
    if args:
        proto = parse_int(args.next(), "ERR Protocol version is not an integer or out of range")
        if proto not in (2, 3):
            raise ErrorReply(errors.PROTO_UNSUPPORTED)
    name = None
    credentials = None
    while args:
        option = args.next()
        upper = option.upper()
        if upper == b"AUTH" and args.remaining >= 2:
            credentials = (args.next(), args.next())
        elif upper == b"SETNAME" and args.remaining >= 1:
            name = args.next()
            validate_client_name(name)
        else:
            raise ErrorReply(f"ERR Syntax error in HELLO option '{errors.text(option)}'")
    if credentials is not None:
        check_password(c, argv[0], *credentials)
    if not c.authenticated:
        raise ErrorReply(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time")
    if name is not None:
        c.name = name
    c.proto = proto
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": proto,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }


@command("RESET", arity=1, flags="allow_busy noscript loading stale fast no_auth", group="connection",
         since="6.2.0", summary="Reset the connection")
def reset(c, argv):
    c.multi = None
    c.multi_error = False
    c.server.unwatch(c)
    c.server.tracking.disable(c)
    c.reply_mode = REPLY_ON
    c.monitoring = False  # leaves MONITOR mode
    c.server.observer.drop_client(c)
    c.update_direct()
    c.server.pubsub.drop_client(c)
    c.subscriptions.clear()
    c.patterns.clear()
    c.shard_subscriptions.clear()
    c.select(0)
    c.proto = 2
    c.name = b""
    c.user = c.server.acl.default  # clientSetDefaultAuth
    c.logged_in = c.authenticated = c.server.acl.default_open()
    c.update_direct()
    return Simple("RESET")


# -- CLIENT ----------------------------------------------------------------------------------
container("CLIENT", group="connection", since="2.4.0", summary="A container for client connection commands")

_CLIENT_HELP = [
    "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME", "    Return the name of the current connection.",
    "ID", "    Return the ID of the current connection.",
    "INFO", "    Return information about the current client connection.",
    "KILL <ip:port>", "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
    "    * USER <username>", "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
    "LIST [options ...]", "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
    "UNPAUSE", "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
    "SETNAME <name>", "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]", "    Control server assisted client side caching.",
    "TRACKINGINFO", "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
]


def validate_client_name(name: bytes) -> None:
    if any(ch < 33 or ch > 126 for ch in name):
        raise ErrorReply("ERR Client names cannot contain spaces, newlines or special characters.")


@command("CLIENT HELP", arity=2, flags="loading stale", group="connection", since="5.0.0",
         summary="Show helpful text about the different subcommands")
def client_help(c, argv):
    return help_reply(argv, _CLIENT_HELP)


@command("CLIENT ID", arity=2, flags="noscript loading stale", group="connection", since="5.0.0",
         summary="Returns the client ID for the current connection")
def client_id(c, argv):
    return c.id


@command("CLIENT SETNAME connection-name", arity=3, flags="noscript loading stale", group="connection",
         since="2.6.9", summary="Set the current connection name")
def client_setname(c, argv):
    validate_client_name(argv[2])
    c.name = argv[2]
    return OK


@command("CLIENT GETNAME", arity=2, flags="noscript loading stale", group="connection", since="2.6.9",
         summary="Get the current connection name")
def client_getname(c, argv):
    return c.name or None


@command("CLIENT INFO", arity=2, flags="noscript loading stale", group="connection", since="6.2.0",
         tips="nondeterministic_output",
         summary="Returns information about the current client connection.")
def client_info(c, argv):
    return Verbatim(client_line(c))


_TYPE_NAMES = {b"SLAVE": b"REPLICA"}


def client_type(cl) -> bytes:
    """Redis's getClientType: the master's link, a replica, a subscriber (RESP2 or 3), or normal."""
    if cl.repl_flag:
        return b"MASTER" if cl.repl_flag == "M" else b"REPLICA"
    return b"PUBSUB" if cl.subscription_count else b"NORMAL"


@command("CLIENT LIST [TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id ...]", arity=-2,
         flags="admin noscript loading stale", group="connection", since="2.4.0",
         tips="nondeterministic_output", summary="Get the list of client connections")
def client_list(c, argv):
    clients = list(c.server.clients.values())
    args = Args(argv, 2)
    while args:
        option = args.next_option()
        if option == b"TYPE" and args:
            kind = args.next_option()
            if kind not in (b"NORMAL", b"MASTER", b"REPLICA", b"SLAVE", b"PUBSUB"):
                raise ErrorReply(f"ERR Unknown client type '{errors.text(kind.lower())}'")
            clients = [cl for cl in clients if client_type(cl) == _TYPE_NAMES.get(kind, kind)]
        elif option == b"ID" and args:
            wanted = set()
            while args:
                wanted.add(parse_int(args.next(), "ERR Invalid client ID"))
            clients = [cl for cl in clients if cl.id in wanted]
        else:
            raise ErrorReply(errors.SYNTAX)
    return Verbatim("".join(client_line(cl) for cl in sorted(clients, key=lambda cl: cl.id)))


@command("CLIENT KILL ip:port | [ID client-id] [TYPE NORMAL | MASTER | SLAVE | REPLICA | PUBSUB] "
         "[USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME YES | NO]", arity=-3,
         flags="admin noscript loading stale", group="connection", since="2.4.0",
         summary="Kill the connection of a client")
def client_kill(c, argv):
    clients = list(c.server.clients.values())
    if len(argv) == 3:  # old form: CLIENT KILL addr
        target = argv[2].decode("utf-8", "surrogateescape")
        victims = [cl for cl in clients if cl.addr == target]
        if not victims:
            raise ErrorReply("ERR No such client")
        victims[0].kill()
        return OK
    skipme = True
    args = Args(argv, 2)
    matches = clients
    while args:
        option = args.next_option()
        if not args:
            raise ErrorReply(errors.SYNTAX)
        value = args.next()
        if option == b"ID":
            wanted = parse_int(value, "ERR client-id should be greater than 0")
            if wanted <= 0:
                raise ErrorReply("ERR client-id should be greater than 0")
            matches = [cl for cl in matches if cl.id == wanted]
        elif option == b"ADDR":
            matches = [cl for cl in matches if cl.addr == errors.text(value)]
        elif option == b"LADDR":
            matches = [cl for cl in matches if cl.laddr == errors.text(value)]
        elif option == b"TYPE":
            kind = value.upper()
            if kind not in (b"NORMAL", b"MASTER", b"REPLICA", b"SLAVE", b"PUBSUB"):
                raise ErrorReply(f"ERR Unknown client type '{errors.text(value)}'")
            matches = [cl for cl in matches if client_type(cl) == _TYPE_NAMES.get(kind, kind)]
        elif option == b"USER":
            user = c.server.acl.users.get(value)
            if user is None:
                raise ErrorReply(f"ERR No such user '{errors.text(value)}'")
            matches = [cl for cl in matches if cl.user is user]
        elif option == b"SKIPME":
            if value.upper() not in (b"YES", b"NO"):
                raise ErrorReply(errors.SYNTAX)
            skipme = value.upper() == b"YES"
        else:
            raise ErrorReply(errors.SYNTAX)
    killed = 0
    for victim in matches:
        if victim is c and skipme:
            continue
        if victim is c:
            c.close_after_reply = True
        else:
            victim.kill()
        killed += 1
    return killed


@command("CLIENT UNBLOCK client-id [TIMEOUT | ERROR]", arity=-3, flags="admin noscript loading stale",
         group="connection", since="5.0.0", summary="Unblock a client blocked in a blocking command from a different connection")
def client_unblock(c, argv):
    if len(argv) > 4:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "client"))
    client_id = parse_int(argv[2])
    mode = argv[3].upper() if len(argv) == 4 else b"TIMEOUT"
    if mode not in (b"TIMEOUT", b"ERROR"):
        raise ErrorReply("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    target = c.server.clients.get(client_id)
    if target is None or target.blocked is None or target.blocked.attempt is None:  # postponed by a pause
        return 0
    blocked = target.blocked
    c.server.blocking.unpark(blocked)
    if mode == b"ERROR":
        target.unblock(ErrorReply("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
    else:
        target.unblock(blocked.timeout_reply)
    return 1


# -- CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (see yizhan.redis.tracking) -----------
@command("CLIENT TRACKING ON | OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] "
         "[OPTOUT] [NOLOOP]", arity=-3, flags="noscript loading stale", group="connection", since="6.0.0",
         summary="Enable or disable server assisted client side caching support",
         complexity="O(1). Some options may introduce additional complexity.")
def client_tracking(c, argv):
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    args = Args(argv, 3)
    while args:
        option = args.next_option()
        if option == b"REDIRECT" and args:
            if redirect:
                raise ErrorReply("ERR A client can only redirect to a single other client")
            redirect = parse_int(args.next())
            if redirect not in c.server.clients:
                raise ErrorReply("ERR The client ID you want redirect to does not exist")
        elif option == b"BCAST":
            bcast = True
        elif option == b"OPTIN":
            optin = True
        elif option == b"OPTOUT":
            optout = True
        elif option == b"NOLOOP":
            noloop = True
        elif option == b"PREFIX" and args:
            prefixes.append(args.next())
        else:
            raise ErrorReply(errors.SYNTAX)
    switch = argv[2].upper()
    if switch == b"OFF":
        c.server.tracking.disable(c)
        return OK
    if switch != b"ON":
        raise ErrorReply(errors.SYNTAX)
    _check_tracking_options(c.tracking, bcast, optin, optout, prefixes)
    c.server.tracking.enable(c, redirect, bcast, optin, optout, noloop, prefixes)
    return OK


def _check_tracking_options(state, bcast: bool, optin: bool, optout: bool, prefixes: list[bytes]) -> None:
    """The refusals of CLIENT TRACKING ON, in Redis's order."""
    if prefixes and not bcast:
        raise ErrorReply("ERR PREFIX option requires BCAST mode to be enabled")
    if state is not None and state.bcast != bcast:
        raise ErrorReply("ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                         "and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise ErrorReply("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise ErrorReply("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if state is not None and ((optin and state.optout) or (optout and state.optin)):
        raise ErrorReply("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                         "and then re-enabling it with a different mode.")
    if bcast:
        for i, prefix in enumerate(prefixes):
            for existing in (state.prefixes if state is not None else ()):
                if _overlap(existing, prefix):
                    raise ErrorReply(f"ERR Prefix '{errors.text(prefix)}' overlaps with an existing prefix "
                                     f"'{errors.text(existing)}'. Prefixes for a single client must not overlap.")
            for other in prefixes[i + 1:]:
                if _overlap(prefix, other):
                    raise ErrorReply(f"ERR Prefix '{errors.text(prefix)}' overlaps with another provided prefix "
                                     f"'{errors.text(other)}'. Prefixes for a single client must not overlap.")


def _overlap(a: bytes, b: bytes) -> bool:
    return a.startswith(b) or b.startswith(a)


@command("CLIENT CACHING YES | NO", arity=3, flags="noscript loading stale", group="connection", since="6.0.0",
         summary="Instruct the server about tracking or not keys in the next request")
def client_caching(c, argv):
    state = c.tracking
    if state is None:
        raise ErrorReply("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
                         "or OPTOUT mode enabled")
    answer = argv[2].upper()
    if answer == b"YES":
        if not state.optin:
            raise ErrorReply("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif answer == b"NO":
        if not state.optout:
            raise ErrorReply("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        raise ErrorReply(errors.SYNTAX)
    state.caching = True
    return OK


@command("CLIENT GETREDIR", arity=2, flags="noscript loading stale", group="connection", since="6.0.0",
         summary="Get tracking notifications redirection client ID if any")
def client_getredir(c, argv):
    return -1 if c.tracking is None else c.tracking.redirect


@command("CLIENT TRACKINGINFO", arity=2, flags="noscript loading stale", group="connection", since="6.2.0",
         summary="Return information about server assisted client side caching for the current connection")
def client_trackinginfo(c, argv):
    state = c.tracking
    if state is None:
        return {b"flags": ReplySet([b"off"]), b"redirect": -1, b"prefixes": []}
    return {b"flags": ReplySet(state.flags()), b"redirect": state.redirect, b"prefixes": sorted(state.prefixes)}


# -- CLIENT PAUSE / UNPAUSE / REPLY / NO-EVICT ---------------------------------------------------
@command("CLIENT PAUSE timeout [WRITE | ALL]", arity=-3, flags="admin noscript loading stale",
         group="connection", since="2.9.50", summary="Stop processing commands from clients for some time",
         history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),))
def client_pause(c, argv):
    if len(argv) > 4:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "client"))
    timeout_ms = parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if timeout_ms < 0:
        raise ErrorReply(errors.TIMEOUT_NEGATIVE)
    everything = True
    if len(argv) == 4:
        mode = argv[3].upper()
        if mode not in (b"WRITE", b"ALL"):
            raise ErrorReply("ERR CLIENT PAUSE mode must be WRITE or ALL")
        everything = mode == b"ALL"
    pause.pause(c.server, timeout_ms, everything)
    return OK


@command("CLIENT UNPAUSE", arity=2, flags="admin noscript loading stale", group="connection", since="6.2.0",
         summary="Resume processing of clients that were paused", complexity="O(N) Where N is the number of paused clients")
def client_unpause(c, argv):
    pause.unpause(c.server)
    return OK


@command("CLIENT REPLY ON | OFF | SKIP", arity=3, flags="noscript loading stale", group="connection",
         since="3.2.0", summary="Instruct the server whether to reply to commands")
def client_reply(c, argv):
    mode = argv[2].upper()
    if mode == b"ON":
        c.reply_mode = REPLY_ON
        c.update_direct()
        return OK
    if mode == b"OFF":
        c.reply_mode = REPLY_OFF
    elif mode == b"SKIP":
        if c.reply_mode != REPLY_OFF:
            c.reply_mode = REPLY_SKIP_NEXT
    else:
        raise ErrorReply(errors.SYNTAX)
    c.update_direct()
    return NO_REPLY


@command("CLIENT NO-EVICT ON | OFF", arity=3, flags="admin noscript loading stale", group="connection",
         since="7.0.0", summary="Set client eviction mode for the current connection")
def client_no_evict(c, argv):
    switch = argv[2].upper()
    if switch not in (b"ON", b"OFF"):
        raise ErrorReply(errors.SYNTAX)
    c.no_evict = switch == b"ON"
    return OK
