"""The users of one Redis instance (`Acl`): the default user, ACL SETUSER/DELUSER applied
and what follows from them (clients of a deleted user dropped, pub/sub clients that lost a
channel dropped, who must AUTH), authentication, the permission check the dispatcher calls
for a client whose user is restricted, the ACL log, the ACL file and `user` config lines."""

from __future__ import annotations

import logging
import os

from yizhan.redis import errors
from yizhan.redis.acl import categories
from yizhan.redis.acl.log import AclLog, Entry
from yizhan.redis.acl.selectors import (DENIED_AUTH, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY, OK, READ,
                                        UNKNOWN, RuleError, channel_allowed, has_spaces)
from yizhan.redis.acl.users import User, merge_selectors
from yizhan.redis.session import client_line
from yizhan.resp import ErrorReply

log = logging.getLogger("yizhan.redis")

DEFAULT = b"default"


class AclFileError(Exception):
    """ACL LOAD (or the start) refused an ACL file; the message is Redis's."""


class Acl:
    def __init__(self, server):
        self.server = server
        self.users: dict[bytes, User] = {}
        self.default = self._make_default()
        self.users[DEFAULT] = self.default
        # the user of the server's own clients (AOF loading): every permission, in no list,
        # as Redis's NULL user
        self.internal = self._make_default()
        self.log = AclLog()

    def _make_default(self) -> User:
        user = User(DEFAULT)
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(rule)
        return user

    def make_internal(self, client) -> None:
        """A client of the server itself (AOF loading, the link to a master) runs every
        command unchecked, as Redis's clients with no user do."""
        client.user = self.internal
        client.logged_in = client.authenticated = True
        client.update_direct()

    @property
    def channels_default(self) -> bool:
        """acl-pubsub-default: whether new users start with allchannels."""
        return self.server.params.get("acl-pubsub-default") == "allchannels"

    def default_open(self) -> bool:
        """No AUTH needed: the default user is on and nopass (authRequired)."""
        return self.default.nopass and self.default.enabled

    # -- startup ---------------------------------------------------------------------------
    def load_startup(self, password: str, config_users, aclfile: str) -> None:
        """requirepass, then `user` config lines, then the ACL file (ACLLoadUsersAtStartup)."""
        self.set_default_password(password)
        if aclfile and config_users:
            raise AclFileError("Configuring Redis with users defined in redis.conf and at the same setting an "
                               "ACL file path is invalid.")
        for words in config_users:
            self._load_config_user([w.encode("utf-8", "surrogateescape") for w in words])
        if aclfile:
            self.load_file(aclfile)

    def _load_config_user(self, words: list[bytes]) -> None:
        name, rules = words[0], merge_selectors(words[1:])
        if isinstance(rules, int) or has_spaces(name):
            raise AclFileError(f"Error loading ACL user '{errors.text(name)}'")
        user = self.users.get(name)
        if user is None:
            user = self.users[name] = User(name, self.channels_default)
        else:
            user.apply(b"reset", self.channels_default)
        for rule in rules:
            try:
                user.apply(rule, self.channels_default)
            except RuleError as exc:
                raise AclFileError(f"Error loading ACL rule '{errors.text(rule)}' for the user named "
                                   f"'{errors.text(name)}': {errors.acl_rule_reason(exc.reason)}") from None

    def set_default_password(self, password: str) -> None:
        """ACLUpdateDefaultUserPassword (requirepass)."""
        self.default.apply(b"resetpass")
        self.default.apply((b">" + password.encode("utf-8", "surrogateescape")) if password else b"nopass")
        self.refresh_auth()

    # -- changes -------------------------------------------------------------------------------
    def setuser(self, name: bytes, args: list[bytes]) -> None:
        """ACLStringSetUser: every rule applied to a copy, kept only if all are valid."""
        rules = merge_selectors(args)
        if isinstance(rules, int):
            raise ErrorReply(f"ERR Unmatched parenthesis in acl selector starting at '{errors.text(args[rules])}'.")
        current = self.users.get(name)
        staged = current.copy() if current is not None else User(name, self.channels_default)
        for rule in rules:
            try:
                staged.apply(rule, self.channels_default)
            except RuleError as exc:
                raise ErrorReply(errors.acl_rule_error(rule, exc.reason)) from None
        if current is None:
            self.users[name] = staged
        else:
            self._drop_pubsub_clients(staged, current)
            current.copy_from(staged)
        self.user_changed(self.users[name])

    def deluser(self, names: list[bytes]) -> int:
        if DEFAULT in names:
            raise ErrorReply("ERR The 'default' user cannot be removed")
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is not None:
                self._drop_clients_of(user)
                deleted += 1
        return deleted

    def user_changed(self, user: User) -> None:
        """Clients of `user` leave or join the direct path; the default user decides who must AUTH."""
        for client in list(self.server.clients.values()):
            if client.user is user:
                client.update_direct()
        if user is self.default:
            self.refresh_auth()

    def refresh_auth(self) -> None:
        open_ = self.default_open()
        for client in self.server.clients.values():
            client.authenticated = client.logged_in or open_

    def _drop_clients_of(self, user: User) -> None:
        """ACLFreeUserAndKillClients: its clients go back to the default user, unauthenticated,
        and are closed (the current one after its reply)."""
        current = self.server.current_client
        for client in list(self.server.clients.values()):
            if client.user is user:
                client.user = self.default
                client.logged_in = client.authenticated = False
                client.update_direct()
                if client is current:
                    client.close_after_reply = True
                else:
                    client.kill()

    def _drop_pubsub_clients(self, new: User, original: User) -> None:
        """ACLKillPubsubClientsIfNeeded: subscribers of `original` that the new channel
        rules no longer allow are disconnected."""
        everything, upcoming = new.channel_patterns()
        if everything:
            return
        had_all, before = original.channel_patterns()
        if not had_all and all(pattern in upcoming for pattern in before):
            return
        for client in list(self.server.clients.values()):
            if client.user is not original or not client.subscription_count:
                continue
            if (any(not channel_allowed(upcoming, p, True) for p in client.patterns)
                    or any(not channel_allowed(upcoming, ch, False) for ch in client.subscriptions)
                    or any(not channel_allowed(upcoming, ch, False) for ch in client.shard_subscriptions)):
                if client is self.server.current_client:
                    client.close_after_reply = True
                else:
                    client.kill()

    # -- authentication ------------------------------------------------------------------------
    def authenticate(self, client, username: bytes, password: bytes, argv0: bytes = b"AUTH") -> None:
        """ACLAuthenticateUser, or WRONGPASS (logged as an "auth" entry naming `argv0`)."""
        user = self.users.get(username)
        if user is None or not user.check_password(password):
            in_multi = client.multi is not None or client.in_exec
            self.add_log(client, DENIED_AUTH, "multi" if in_multi else "toplevel", argv0, username)
            raise ErrorReply(errors.WRONGPASS)
        client.user = user
        client.logged_in = client.authenticated = True
        client.update_direct()

    # -- permission checks ---------------------------------------------------------------------
    def check(self, user: User, cmd, argv: list[bytes]) -> tuple[int, int]:
        """ACLCheckAllUserCommandPerm: (OK, 0) when a selector allows the command, else the
        denial to report (no selector allows the command: "command"; else the last key or
        channel that no selector could match) and its argument position."""
        cmd = categories.acl_command(cmd)
        relevant, last_position = DENIED_CMD, 0
        keys_cache: list = []
        for selector in user.selectors:
            result, position = selector.check(cmd, argv, keys_cache)
            if result == OK:
                return OK, 0
            if result > relevant or (result == relevant and position > last_position):
                relevant, last_position = result, position
        return relevant, last_position

    def reads_every_key(self, user: User, argv: list[bytes]) -> bool:
        """ACLUserCheckCmdWithUnrestrictedKeyAccess for SORT's BY and GET: a selector allows
        the command and may read any key (allkeys, or a "*" pattern with read access)."""
        cmd = categories.lookup(argv[0])
        keys_cache: list = []
        for selector in user.selectors:
            if selector.check(cmd, argv, keys_cache)[0] == OK and (
                    selector.all_keys or any(p == b"*" and flags & READ for p, flags in selector.keys)):
                return True
        return False

    def refuse(self, client, cmd, argv: list[bytes], context: str, in_exec: bool = False) -> ErrorReply | None:
        """The NOPERM reply for a command the client's user may not run (logged), or None:
        processCommand's, EXEC's for a queued command (`in_exec`), or a script's (context "lua")."""
        result, position = self.check(client.user, cmd, argv)
        if result == OK:
            return None
        self.add_log(client, result, context, self._object(cmd, argv, result, position))
        if context == "lua":
            return ErrorReply(errors.noperm_in_script(result))
        if in_exec:
            return ErrorReply(errors.noperm_in_exec(result))
        return ErrorReply(errors.noperm(result, categories.acl_command(cmd).name))

    @staticmethod
    def _object(cmd, argv: list[bytes], result: int, position: int) -> bytes:
        if result == DENIED_CMD:
            return categories.acl_command(cmd).name.encode()
        return argv[position]

    def add_log(self, client, reason: int, context: str, obj: bytes, username: bytes | None = None) -> None:
        run = self.server.script_running
        real = run.caller if client.in_script and run is not None else client
        entry = Entry(reason, context, obj, username if username is not None else client.user.name,
                      self.server.clock.ms(), client_line(real).rstrip("\n"))
        self.log.add(entry, self.server.params.int("acllog-max-len"))

    def dryrun(self, name: bytes, argv: list[bytes], lookup) -> object:
        user = self.users.get(name)
        if user is None:
            raise ErrorReply(f"ERR User '{errors.text(name)}' not found")
        cmd = lookup(argv)
        if cmd is None:
            raise ErrorReply(f"ERR Command '{errors.text(argv[0])}' not found")
        if not cmd.arity_fits(len(argv)):
            raise ErrorReply(f"ERR wrong number of arguments for '{cmd.name}' command")
        result, position = self.check(user, cmd, argv)
        if result == DENIED_CMD:
            return f"This user has no permissions to run the '{categories.acl_command(cmd).name}' command".encode()
        if result == DENIED_KEY:
            return b"This user has no permissions to access the '" + argv[position] + b"' key"
        if result == DENIED_CHANNEL:
            return b"This user has no permissions to access the '" + argv[position] + b"' channel"
        return None

    # -- the ACL file --------------------------------------------------------------------------
    def describe_all(self) -> list[bytes]:
        return [b"user " + name + b" " + self.users[name].describe() for name in sorted(self.users)]

    def save_file(self, path: str) -> None:
        data = b"".join(line + b"\n" for line in self.describe_all())
        temp = f"{path}.tmp-{os.getpid()}-{self.server.clock.ms()}"
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except OSError as exc:
            log.warning("Writing ACL file for ACL SAVE: %s", exc.strerror)
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise ErrorReply("ERR There was an error trying to save the ACLs. Please check the server logs "
                             "for more information") from None

    def load_file(self, path: str) -> None:
        """ACLLoadFromFile: all users of the file or, at the first error, none (AclFileError
        with Redis's one-line description of every problem)."""
        try:
            with open(path, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            raise AclFileError(f"Error loading ACLs, opening file '{path}': {exc.strerror}") from None
        users: dict[bytes, User] = {}
        problems = []
        for number, line in enumerate(text.split(b"\n"), 1):
            line = line.strip(b" \t\r\n")
            if not line:
                continue
            words = [w for w in line.split(b" ") if w]
            if not words:
                continue
            if words[0] != b"user" or len(words) < 2:
                problems.append(f"{path}:{number} should start with user keyword followed by the username. ")
                continue
            name = words[1]
            if has_spaces(name):
                problems.append(f"'{path}:{number}: username '{errors.text(name)}' contains invalid characters. ")
                continue
            if name in users:
                problems.append(f"WARNING: Duplicate user '{errors.text(name)}' found on line {number}. ")
                continue
            user = users[name] = User(name, self.channels_default)
            rules = merge_selectors(words[2:])
            if isinstance(rules, int):
                problems.append(f"{path}:{number}: Unmatched parenthesis in selector definition.")
                continue
            syntax_error = False
            for rule in rules:
                rule = rule.strip(b"\t\r\n")
                try:
                    user.apply(rule, self.channels_default)
                except RuleError as exc:
                    reason = errors.acl_rule_reason(exc.reason)
                    if exc.reason == UNKNOWN:
                        problems.append(f"{path}:{number}: Error in applying operation '{errors.text(rule)}': {reason}. ")
                    elif not syntax_error:
                        problems.append(f"{path}:{number}: {reason}. ")
                        syntax_error = True
        if problems:
            raise AclFileError("".join(problems) + "WARNING: ACL errors detected, no change to the previously "
                               "active ACL rules was performed")
        self._replace_users(users)

    def _replace_users(self, users: dict[bytes, User]) -> None:
        """The loaded users take over; the default user object stays (clients hold it) with
        the new rules; clients of users that are gone are dropped."""
        new_default = users.pop(DEFAULT, None) or self._make_default()
        self.default.copy_from(new_default)
        old = self.users
        self.users = {DEFAULT: self.default, **users}
        for name, user in old.items():
            if name != DEFAULT:
                self._drop_clients_of(user)
        self.user_changed(self.default)
