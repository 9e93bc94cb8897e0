"""Command groups, one module each; importing this package registers them all in the table."""

from yizhan.redis.commands import connection, server  # noqa: F401
from yizhan.redis.commands import keys, strings, bitmaps  # noqa: F401
from yizhan.redis.commands import transactions, pubsub, memory  # noqa: F401
from yizhan.redis.commands import hyperloglog, sort  # noqa: F401
from yizhan.redis.commands import lists  # noqa: F401
from yizhan.redis.commands import hashes, sets  # noqa: F401
from yizhan.redis.commands import zsets, geo  # noqa: F401
from yizhan.redis.commands import persistence  # noqa: F401
from yizhan.redis.commands import debug, replication, migrate  # noqa: F401
from yizhan.redis.commands import scripting  # noqa: F401
from yizhan.redis.commands import lolwut  # noqa: F401
from yizhan.redis.commands import functions  # noqa: F401
from yizhan.redis.commands import introspection  # noqa: F401
from yizhan.redis.commands import streams  # noqa: F401
from yizhan.redis.commands import acl  # noqa: F401
from yizhan.redis.commands import cluster, modules  # noqa: F401
from yizhan.redis.commands import fast  # noqa: F401  (last: installs the direct paths)
