"""Redis 7.0 functions: libraries of named functions loaded with FUNCTION LOAD (functions.c).

This module owns what is engine-independent: the library metadata line (`#!lua name=<lib>`),
the name rules, the function flags, and the registry of libraries and functions
(`Libraries`, Redis's functionsLibCtx) with its load, replace, delete, flush and join
(FUNCTION RESTORE) operations and their exact errors. An engine (the Lua one is
`yizhan.redis.scripting.function_lua`) compiles a library's code and registers its functions
through `Library.add_function`.

As in Redis: library names are case-sensitive, function names are looked up without regard to
case (FCALL f finds F), the stored code is the whole payload including its metadata line, and
engines are found without regard to case ("#!LUA" works and FUNCTION LIST says "LUA").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yizhan.redis import errors
from yizhan.resp.parser import split_args

# Function flags, in the order Redis lists them (scripts_flags_def).
FLAG_NAMES = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT = (1 << i for i in range(5))
FLAG_BITS = {name: 1 << i for i, name in enumerate(FLAG_NAMES)}

LOAD_TIMEOUT_MS = 500  # FUNCTION LOAD from a client; loading from disk has no time limit


class FunctionError(Exception):
    """A library that cannot be created or joined; the message is the whole error reply."""

    @property
    def message(self) -> str:
        return self.args[0]


def flag_names(flags: int) -> list[str]:
    return [name for name in FLAG_NAMES if flags & FLAG_BITS[name]]


def valid_name(name: bytes) -> bool:
    """functionsVerifyName: one or more of [A-Za-z0-9_]."""
    return bool(name) and all(c == 95 or 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 for c in name)


@dataclass
class Metadata:
    engine: bytes
    name: bytes
    body: bytes  # the code after the metadata line, from its newline on (line numbers hold)


def parse_metadata(code: bytes) -> Metadata:
    """functionExtractLibMetaData: "#!<engine> name=<library>" on the first line."""
    if not code.startswith(b"#!"):
        raise FunctionError(errors.FUNCTION_MISSING_METADATA)
    end = code.find(b"\n", 0, code.find(b"\0") % (len(code) + 1))  # a C string ends at NUL
    if end < 0:
        raise FunctionError(errors.FUNCTION_INVALID_METADATA)
    parts = split_args(code[:end])
    if not parts:
        raise FunctionError(errors.FUNCTION_INVALID_METADATA)
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise FunctionError(errors.FUNCTION_NAME_TWICE)
            name = part[5:]
            continue
        raise FunctionError(errors.function_bad_metadata(part))
    if name is None:
        raise FunctionError(errors.FUNCTION_NO_LIBRARY_NAME)
    return Metadata(parts[0][2:], name, code[end:])


@dataclass(eq=False)
class Function:
    name: bytes
    callback: object          # the engine's compiled function
    library: "Library"
    description: bytes | None
    flags: int


@dataclass(eq=False)
class Library:
    name: bytes
    engine: "object"          # has .name (str) and .create / .call
    code: bytes               # the whole payload, metadata line included
    functions: dict[bytes, Function] = field(default_factory=dict)

    def add_function(self, name: bytes, callback, description: bytes | None, flags: int) -> None:
        """functionLibCreateFunction; FunctionError with Redis's text (no ERR prefix: the
        engine reports it as a Lua error)."""
        if not valid_name(name):
            raise FunctionError(errors.FUNCTION_NAME_RULES[4:])
        if name in self.functions:
            raise FunctionError("Function already exists in the library")
        self.functions[name] = Function(name, callback, self, description, flags)


class Libraries:
    """The loaded libraries and the functions they registered (functionsLibCtx)."""

    def __init__(self, engines: dict[str, object]):
        self.engines = engines                       # lower-case engine name -> engine
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}   # lower-case function name -> function

    def fresh(self) -> "Libraries":
        """An empty registry on the same engines (FUNCTION RESTORE loads its payload into one)."""
        return Libraries(self.engines)

    def find(self, name: bytes) -> Function | None:
        return self.functions.get(name.lower())

    def function_count(self) -> int:
        return len(self.functions)

    def engine_counts(self, engine) -> tuple[int, int]:
        """(libraries, functions) of one engine, as FUNCTION STATS counts them."""
        libs = [lib for lib in self.libraries.values() if lib.engine is engine]
        return len(libs), sum(len(lib.functions) for lib in libs)

    # -- linking -------------------------------------------------------------------------
    def _link(self, library: Library) -> None:
        for function in library.functions.values():
            self.functions.setdefault(function.name.lower(), function)  # dictAdd: first one wins
        self.libraries[library.name] = library

    def _unlink(self, library: Library) -> None:
        for function in library.functions.values():
            if self.functions.get(function.name.lower()) is function:
                del self.functions[function.name.lower()]
        del self.libraries[library.name]

    # -- FUNCTION LOAD ---------------------------------------------------------------------
    def create(self, code: bytes, replace: bool, timeout_ms: int) -> bytes:
        """functionsCreateWithLibraryCtx: compile `code`, register its functions, link the
        library; returns its name. FunctionError (nothing changed) otherwise."""
        meta = parse_metadata(code)
        if not valid_name(meta.name):
            raise FunctionError(errors.FUNCTION_NAME_RULES)
        engine = self.engines.get(meta.engine.lower().decode("latin-1"))
        if engine is None:
            raise FunctionError(errors.function_no_engine(meta.engine))
        old = self.libraries.get(meta.name)
        if old is not None and not replace:
            raise FunctionError(errors.function_library_exists(meta.name))
        if old is not None:
            self._unlink(old)
        try:
            library = Library(meta.name, engine, code)
            engine.create(library, meta.body, timeout_ms)
            if not library.functions:
                raise FunctionError(errors.FUNCTION_NONE_REGISTERED)
            for name in library.functions:
                if name.lower() in self.functions:
                    raise FunctionError(errors.function_exists(name))
        except BaseException:
            if old is not None:
                self._link(old)
            raise
        self._link(library)
        return meta.name

    # -- FUNCTION DELETE / FLUSH ---------------------------------------------------------
    def delete(self, name: bytes) -> bool:
        library = self.libraries.get(name)
        if library is None:
            return False
        self._unlink(library)
        return True

    def clear(self) -> None:
        self.libraries.clear()
        self.functions.clear()

    # -- FUNCTION RESTORE ----------------------------------------------------------------
    def join(self, other: "Libraries", replace: bool) -> None:
        """libraryJoin: add every library of `other`; on a library name collision replace
        the old one (`replace`) or fail; fail on a function name collision. All or nothing."""
        replaced = []
        try:
            for library in other.libraries.values():
                old = self.libraries.get(library.name)
                if old is None:
                    continue
                if not replace:
                    raise FunctionError(errors.function_library_exists_restore(library.name))
                self._unlink(old)
                replaced.append(old)
            for key, function in other.functions.items():
                if key in self.functions:
                    raise FunctionError(errors.function_exists(function.name))
        except FunctionError:
            for old in replaced:
                self._link(old)
            raise
        for library in other.libraries.values():
            self._link(library)

    def replace_all(self, other: "Libraries") -> None:
        """FUNCTION RESTORE ... FLUSH: `other`'s libraries become the only ones."""
        self.libraries, self.functions = other.libraries, other.functions

    # -- INFO memory -------------------------------------------------------------------------
    def memory_overhead(self) -> int:
        """used_memory_functions: an estimate of the registry's own memory, as Redis's
        functionsMemoryOverhead counts it (dictionary entries, names, descriptions, code)."""
        size = 200
        for library in self.libraries.values():
            size += 48 + len(library.name) + len(library.code) + 24
            for function in library.functions.values():
                size += 80 + len(function.name) + len(function.description or b"")
        return size
