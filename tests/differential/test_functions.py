"""Differential cases for Redis 7.0 functions: every FUNCTION subcommand (LOAD, DELETE, FLUSH,
LIST, DUMP, RESTORE, STATS, KILL, HELP), FCALL and FCALL_RO, with their replies and every error
text, in RESP2 and RESP3. Each scenario starts with FUNCTION FLUSH (FLUSHALL keeps functions).
FUNCTION LIST of several libraries, and the functions of one library, come in Redis's hash
order: those replies are compared unordered ("~")."""

import struct

import pytest

from yizhan.redis.persistence.codec import crc64

# FUNCTION DUMP payloads written by redis-server 7.0.15
MYLIB = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
DUMP_MYLIB = bytes.fromhex(
    "f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e6374696f6e28"
    "276d79400b02272c2040066012116b6579732c2061726773292072657475726e600c075b315d20656e64290a008d5936ad"
    "c6e707da")
BIG = "#!lua name=big\n" + "".join(
    f"redis.register_function{{function_name='f{i}', callback=function() return {i} end, "
    f"flags={{'no-writes'}}, description='function number {i}'}}\n" for i in range(5))
DUMP_BIG = bytes.fromhex(
    "f5c340c042a31f23216c7561206e616d653d6269670a72656469732e72656769737465725f6675066e6374696f6e7bc0"
    "08005f60290e276630272c2063616c6c6261636b3dc01c1f28292072657475726e203020656e642c20666c6167733d7b27"
    "6e6f2d777269740c6573277d2c206465736372697040562048a0600a206e756d6265722030277de020830031e015830031"
    "e02f830031e022830032e015830032e02f830032e022830033e015830033e02f830033e022830034e015830034e02f8300"
    "3420830a009cec7274e99baa3e")
DUMP_EMPTY = bytes.fromhex("0a005d9b5c400f7fa2da")


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<Q", crc64(body))


def _lib(name: str, *functions: str, body: str = "") -> str:
    regs = "".join(f"redis.register_function('{f}', function(keys, args) return '{f}' end)\n" for f in functions)
    return f"#!lua name={name}\n{body}{regs}"


BAD_CRC = DUMP_MYLIB[:-1] + bytes([DUMP_MYLIB[-1] ^ 1])
NOT_A_FUNCTION = _with_crc(b"\x00\x01k\x01v\x0a\x00")                     # a string value record
TRUNCATED = _with_crc(b"\xf5\x40\xff#!lua name=x\n\x0a\x00")               # a length past the end
OLD_FORMAT = _with_crc(b"\xf6\x03old\x03LUA\x01\x04desc"                   # 7.0-rc RDB_OPCODE_FUNCTION
                       + bytes([len(b"redis.register_function('oldf', function() return 'old' end)")])
                       + b"redis.register_function('oldf', function() return 'old' end)\x0a\x00")
TWICE = _with_crc(DUMP_MYLIB[:-10] + DUMP_MYLIB[:-10] + b"\x0a\x00")
NEWER = _with_crc(DUMP_MYLIB[:-10] + b"\x0b\x00")

F = "\nredis.register_function('f', function() return 1 end)"
LOAD_ERRORS = [
    "", "x", "  #!lua name=a" + F, "#!lua", "#!lua name=a", "#!lua" + F, "#!lua name=a name=b" + F,
    "#!lua foo=bar" + F, "#!lua name=" + F, "#!lua name=a-b" + F, "#!js name=a" + F, "#! name=z" + F,
    '#!lua "name=c d"' + F, '#!lua name="x' + F, "#!lua name=a\0" + F,
    "#!lua name=e\nlocal x = = 1", "#!lua name=e\nlocal a = 1", "#!lua name=e\nreturn 1",
    "#!lua name=e\nerror('boom')", "#!lua name=e\nlocal s = string.format('%d', 1)",
    "#!lua name=e\nredis.call('ping')", "#!lua name=e\nlocal p = redis.pcall", "#!lua name=e\nx = 1",
    "#!lua name=e\nlocal t = redis.setresp", "#!lua name=e\nlocal t = math", "#!lua name=e\nlocal t = pcall",
    "#!lua name=e\nlocal a = nil\na.b = 1", "#!lua name=e\nredis.x = 1",
    "#!lua name=e\nredis.register_function()", "#!lua name=e\nredis.register_function(1, 2, 3)",
    "#!lua name=e\nredis.register_function({}, function() end)", "#!lua name=e\nredis.register_function('x', 1)",
    "#!lua name=e\nredis.register_function('', function() end)",
    "#!lua name=e\nredis.register_function('a b', function() end)",
    "#!lua name=e\nredis.register_function('x\\0y', function() end)",
    "#!lua name=e\nredis.register_function('x')",
    "#!lua name=e\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)",
    "#!lua name=e\nredis.register_function{function_name='x', callback=function() end, flags={'no-writes', 'bad'}}",
    "#!lua name=e\nredis.register_function{function_name='x', callback=function() end, flags={'no-writes', 3}}",
    "#!lua name=e\nredis.register_function{function_name='x', callback=function() end, flags='no-writes'}",
    "#!lua name=e\nredis.register_function{function_name='x', callback=function() end, bogus=1}",
    "#!lua name=e\nredis.register_function{[1]=2}", "#!lua name=e\nredis.register_function{function_name=3}",
    "#!lua name=e\nredis.register_function{function_name={}}",
    "#!lua name=e\nredis.register_function{callback=function() end}",
    "#!lua name=e\nredis.register_function{function_name='x'}",
    "#!lua name=e\nredis.register_function{function_name='x', callback=1}",
    "#!lua name=e\nredis.register_function{function_name='x', description={}, callback=function() end}",
    "#!lua name=e\nwhile true do end",
    "#!lua name=e\nredis.register_function('a', function() end)\nwhile true do end",
]

CASES = {
    "load-and-list": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", MYLIB], ["FUNCTION", "LIST"],
                      ["FUNCTION", "LIST", "WITHCODE"], ["FUNCTION", "LOAD", MYLIB],
                      ["FUNCTION", "LOAD", "REPLACE", MYLIB], ["FUNCTION", "LOAD", "replace", MYLIB],
                      ["FUNCTION", "LOAD", "FOO", MYLIB], ["FUNCTION", "LOAD", "REPLACE", "REPLACE", MYLIB],
                      ["FUNCTION", "LOAD", "REPLACE"], ["FUNCTION", "LOAD"], ["FUNCTION", "LIST", "WITHCODE"]],
    "load-errors": [["FUNCTION", "FLUSH"], *[["FUNCTION", "LOAD", code] for code in LOAD_ERRORS],
                    ["FUNCTION", "LIST"], ["FUNCTION", "STATS"]],
    "load-shebang-forms": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", "#!LUA name=A" + F],
                           ["FUNCTION", "LOAD", "#!lua NAME=b   " + F],
                           ["FUNCTION", "LOAD", "#!lua  name=q\r" + F.replace("'f'", "'g'")],
                           ["FUNCTION", "LOAD", "#!lua 'name=s'" + F.replace("'f'", "'h'")],
                           ["~FUNCTION", "LIST"], ["FUNCTION", "LIST", "LIBRARYNAME", "a"],
                           ["FUNCTION", "LIST", "LIBRARYNAME", "q"]],
    "function-names": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", _lib("l1", "f1")],
                       ["FUNCTION", "LOAD", _lib("l2", "F1")], ["FUNCTION", "LOAD", _lib("l2", "f2")],
                       ["FUNCTION", "LOAD", "REPLACE", _lib("l2", "f1")],
                       ["FUNCTION", "LOAD", "REPLACE", _lib("l1", "f3")], ["~FUNCTION", "LIST"],
                       ["FUNCTION", "LOAD", "#!lua name=n\nredis.register_function(12, function() end)"],
                       ["FUNCTION", "LIST", "LIBRARYNAME", "n"]],
    "register-table-form": [
        ["FUNCTION", "FLUSH"],
        ["FUNCTION", "LOAD", "#!lua name=t\nredis.register_function{function_name='ok', callback=function() end, "
                             "flags={'no-writes','allow-oom','allow-stale','no-cluster','allow-cross-slot-keys',"
                             "'NO-WRITES'}, description='d'}"],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=t\nredis.register_function{FUNCTION_NAME='ok', "
                                        "Callback=function() end, DESCRIPTION=42, flags={}}"],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=t\nredis.register_function{function_name='ok', "
                                        "callback=function() end, flags={'allow-stale'}}"],
        ["FUNCTION", "LIST"]],
    "list-options": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", _lib("alpha", "fa")],
                     ["FUNCTION", "LOAD", _lib("beta", "fb")], ["FUNCTION", "LOAD", _lib("Alps", "fc")],
                     ["~FUNCTION", "LIST"], ["~FUNCTION", "LIST", "LIBRARYNAME", "al*"],
                     ["~FUNCTION", "LIST", "libraryname", "AL*", "withcode"],
                     ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"], ["FUNCTION", "LIST", "LIBRARYNAME"],
                     ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"], ["FUNCTION", "LIST", "BOGUS"],
                     ["FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"],
                     ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "beta"]],
    "delete-and-flush": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", _lib("l1", "f1", "f2")],
                         ["FUNCTION", "DELETE", "l1"], ["FUNCTION", "DELETE", "l1"], ["FUNCTION", "LIST"],
                         ["FUNCTION", "DELETE"], ["FUNCTION", "DELETE", "a", "b"],
                         ["FUNCTION", "LOAD", _lib("l1", "f1")], ["FUNCTION", "DELETE", "L1"],
                         ["FUNCTION", "LOAD", _lib("l2", "f1")], ["FUNCTION", "FLUSH", "ASYNC"],
                         ["FUNCTION", "LIST"], ["FUNCTION", "FLUSH", "sync"], ["FUNCTION", "FLUSH", "bogus"],
                         ["FUNCTION", "FLUSH", "SYNC", "x"], ["FUNCTION", "LOAD", _lib("l3", "f1")],
                         ["FLUSHALL"], ["FUNCTION", "LIST"], ["FUNCTION", "FLUSH"], ["FUNCTION", "STATS"]],
    "dump": [["FUNCTION", "FLUSH"], ["FUNCTION", "DUMP"], ["FUNCTION", "LOAD", MYLIB], ["FUNCTION", "DUMP"],
             ["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", BIG], ["FUNCTION", "DUMP"],
             ["CONFIG", "SET", "rdbcompression", "no"], ["FUNCTION", "DUMP"],
             ["CONFIG", "SET", "rdbcompression", "yes"], ["FUNCTION", "DUMP", "x"]],
    "restore": [["FUNCTION", "FLUSH"], ["FUNCTION", "RESTORE", DUMP_MYLIB], ["FUNCTION", "LIST", "WITHCODE"],
                ["FUNCTION", "RESTORE", DUMP_MYLIB], ["FUNCTION", "RESTORE", DUMP_MYLIB, "APPEND"],
                ["FUNCTION", "RESTORE", DUMP_MYLIB, "REPLACE"], ["FUNCTION", "RESTORE", DUMP_BIG, "append"],
                ["~FUNCTION", "LIST"], ["FUNCTION", "RESTORE", DUMP_MYLIB, "FLUSH"], ["FUNCTION", "LIST"],
                ["FUNCTION", "RESTORE", DUMP_EMPTY, "FLUSH"], ["FUNCTION", "LIST"],
                ["FUNCTION", "RESTORE", DUMP_EMPTY], ["FUNCTION", "RESTORE", DUMP_BIG],
                ["FUNCTION", "DUMP"], ["FUNCTION", "STATS"]],
    "restore-errors": [["FUNCTION", "FLUSH"], ["FUNCTION", "RESTORE", DUMP_MYLIB, "BOGUS"],
                       ["FUNCTION", "RESTORE", DUMP_MYLIB, "FLUSH", "x"], ["FUNCTION", "RESTORE"],
                       ["FUNCTION", "RESTORE", "garbage"], ["FUNCTION", "RESTORE", ""],
                       ["FUNCTION", "RESTORE", BAD_CRC], ["FUNCTION", "RESTORE", NEWER],
                       ["FUNCTION", "RESTORE", NOT_A_FUNCTION], ["FUNCTION", "RESTORE", TRUNCATED],
                       ["FUNCTION", "RESTORE", TWICE], ["FUNCTION", "LIST"],
                       ["FUNCTION", "LOAD", _lib("other", "myfunc")], ["FUNCTION", "RESTORE", DUMP_MYLIB],
                       ["FUNCTION", "RESTORE", DUMP_MYLIB, "REPLACE"], ["FUNCTION", "LIST"],
                       ["FUNCTION", "LOAD", _lib("mylib", "x")], ["FUNCTION", "RESTORE", DUMP_MYLIB],
                       ["FUNCTION", "LIST", "LIBRARYNAME", "mylib"]],
    "restore-old-format": [["FUNCTION", "FLUSH"], ["FUNCTION", "RESTORE", OLD_FORMAT],
                           ["FUNCTION", "LIST", "WITHCODE"], ["FUNCTION", "DUMP"]],
    "stats-kill-help": [["FUNCTION", "FLUSH"], ["FUNCTION", "STATS"], ["FUNCTION", "LOAD", BIG],
                        ["FUNCTION", "LOAD", MYLIB], ["FUNCTION", "STATS"], ["FUNCTION", "STATS", "x"],
                        ["FUNCTION", "KILL"], ["FUNCTION", "KILL", "x"], ["FUNCTION", "HELP"],
                        ["FUNCTION", "HELP", "x"], ["FUNCTION"], ["FUNCTION", "BOGUS"], ["function", "help"]],
    "command-table": [["COMMAND", "INFO", "fcall", "fcall_ro"],                       ["COMMAND", "DOCS", "fcall"], ["COMMAND", "DOCS", "fcall_ro"],
                      ["COMMAND", "GETKEYS", "FCALL", "f", "2", "a", "b", "c"],
                      ["COMMAND", "GETKEYS", "FCALL", "f", "0"], ["COMMAND", "GETKEYS", "FCALL", "f", "0", "x"],
                      ["COMMAND", "GETKEYS", "FCALL", "f", "3", "a", "b"],
                      ["COMMAND", "GETKEYS", "FCALL", "f", "-1", "a"], ["COMMAND", "GETKEYS", "FCALL", "f", "x", "a"],
                      ["COMMAND", "GETKEYS", "FCALL", "f", "1abc", "a"],
                      ["COMMAND", "GETKEYS", "FCALL_RO", "f", "1", "a", "b"], ["COMMAND", "GETKEYS", "FCALL", "f"],
                      ["~COMMAND", "INFO", "function"]],
}

CALLS = """#!lua name=calls
local function echo(keys, args) return {keys, args} end
local function set(keys, args) return redis.call('SET', keys[1], args[1]) end
local function get(keys, args) return redis.call('GET', keys[1]) end
local function sneaky(keys, args) return redis.call('SET', keys[1], 'x') end
local function fails(keys, args) return redis.call('NOSUCHCOMMAND') end
local function raises(keys, args) error('boom') end
local function raises_table(keys, args) error({err = 'MYERR custom'}) end
local function globals_of(keys, args) return {type(KEYS), type(ARGV)} end
local function kinds(keys, args) return {1, 2.9, 'str', true, false, {ok = 'fine'}, {err = 'bad'}} end
local function reg(keys, args) return redis.register_function('late', echo) end
local function resp3(keys, args) redis.setresp(3); return redis.call('HGETALL', keys[1]) end
local function setglobal(keys, args) x = 1 end
redis.register_function('echo', echo)
redis.register_function('set', set)
redis.register_function{function_name = 'get', callback = get, flags = {'no-writes'}}
redis.register_function{function_name = 'sneaky', callback = sneaky, flags = {'no-writes'}}
redis.register_function('fails', fails)
redis.register_function('raises', raises)
redis.register_function('raises_table', raises_table)
redis.register_function{function_name = 'globals_of', callback = globals_of, flags = {'no-writes'}}
redis.register_function('kinds', kinds)
redis.register_function('reg', reg)
redis.register_function('resp3', resp3)
redis.register_function('setglobal', setglobal)
"""

CASES.update({
    "fcall": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", CALLS], ["FCALL", "echo", "2", "a", "b", "c", "d"],
              ["FCALL", "echo", "0"], ["FCALL", "ECHO", "1", "k"], ["FCALL", "set", "1", "k", "v"],
              ["GET", "k"], ["FCALL", "get", "1", "k"], ["FCALL_RO", "get", "1", "k"],
              ["FCALL", "kinds", "0"], ["FCALL", "fails", "0"], ["FCALL", "raises", "0"],
              ["FCALL", "raises_table", "0"], ["FCALL", "globals_of", "0"], ["FCALL", "reg", "0"],
              ["FCALL", "setglobal", "0"], ["HSET", "h", "f", "v"], ["FCALL", "resp3", "1", "h"],
              ["FCALL", "sneaky", "1", "k"], ["GET", "k"]],
    "fcall-errors": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", CALLS], ["FCALL", "nosuch", "0"],
                     ["FCALL", "echo", "x"], ["FCALL", "echo", "2", "a"], ["FCALL", "echo", "-1"],
                     ["FCALL", "echo", "01"], ["FCALL", "nosuch", "x"], ["FCALL", "echo"], ["FCALL"],
                     ["FCALL_RO", "set", "1", "k", "v"], ["FCALL_RO", "echo", "0"], ["FCALL_RO", "nosuch", "0"],
                     ["FCALL_RO", "sneaky", "1", "k"], ["EXISTS", "k"]],
    "fcall-in-multi": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", CALLS], ["MULTI"],
                       ["FCALL", "set", "1", "k", "v1"], ["FCALL", "get", "1", "k"], ["FCALL", "nosuch", "0"],
                       ["EXEC"], ["GET", "k"]],
    "function-delete-then-call": [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", CALLS], ["FUNCTION", "DELETE", "calls"],
                                  ["FCALL", "echo", "0"], ["FUNCTION", "RESTORE", DUMP_MYLIB],
                                  ["FCALL", "myfunc", "0", "hello"], ["FCALL_RO", "myfunc", "0", "hello"],
                                  ["FUNCTION", "RESTORE", OLD_FORMAT], ["FCALL", "oldf", "0"]],
})

SUBCOMMANDS = ["load", "delete", "flush", "list", "dump", "restore", "stats", "kill", "help"]
CASES["command-info-subcommands"] = [["COMMAND", "INFO", f"function|{sub}"] for sub in SUBCOMMANDS]


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)
