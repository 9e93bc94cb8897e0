"""Redis 7.0's access control lists: users, their rules and selectors, the permission check
of every command, the ACL log, and the ACL file.

- `categories`: the ACL categories and which commands (and subcommands) each one holds, from
  the command table's declarations; command lookup as ACL rules name commands.
- `selectors`: a selector (the root one of a user, or one in parentheses): its command bits,
  first-args, key and channel patterns; applying one rule to it, describing it as Redis does
  (the best-fit category algorithm of ACLDescribeSelectorCommandRules), checking a command.
- `users`: a user (flags, password hashes, selectors), ACL SETUSER's rules applied all or
  nothing, the rule string of ACL LIST and the GETUSER map.
- `log`: ACL LOG entries, grouped as Redis groups them.
- `registry`: the instance's users (`Acl`): authentication, the check the dispatcher calls,
  disconnecting clients of changed users, the ACL file and `user` config lines.
"""

from yizhan.redis.acl.registry import Acl

__all__ = ["Acl"]
