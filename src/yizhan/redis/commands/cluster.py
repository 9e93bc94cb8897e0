"""The cluster commands of a server started without cluster support (cluster-enabled no, the
only mode yizhan has): CLUSTER and its subcommands, ASKING, READONLY and READWRITE, declared
as Redis 7.0 declares them and each answering as redis-server 7.0 does then, "This instance
has cluster support disabled". Clients probe with them (redis-py's cluster detection, tools
asking CLUSTER INFO): they see a plain server, not an unknown command."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.table import command, container
from yizhan.resp import ErrorReply

_GROUP = "cluster"
_ADMIN = "admin stale no_async_loading"

container("CLUSTER", group=_GROUP, since="3.0.0", summary="A container for cluster commands")


def cluster_disabled(c, argv):
    raise ErrorReply(errors.CLUSTER_DISABLED)


# (syntax, arity, flags, since, summary, tips, complexity), as redis-server 7.0's COMMAND shows them
_SUBCOMMANDS = [
    ("ADDSLOTS slot [slot ...]", -3, _ADMIN, "3.0.0", "Assign new hash slots to receiving node", "",
     "O(N) where N is the total number of hash slot arguments"),
    ("ADDSLOTSRANGE start-slot end-slot [start-slot end-slot ...]", -4, _ADMIN, "7.0.0",
     "Assign new hash slots to receiving node", "",
     "O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    ("BUMPEPOCH", 2, _ADMIN, "3.0.0", "Advance the cluster config epoch", "nondeterministic_output", "O(1)"),
    ("COUNT-FAILURE-REPORTS node-id", 3, "admin stale", "3.0.0",
     "Return the number of failure reports active for a given node", "nondeterministic_output",
     "O(N) where N is the number of failure reports"),
    ("COUNTKEYSINSLOT slot", 3, "stale", "3.0.0", "Return the number of local keys in the specified hash slot",
     "", "O(1)"),
    ("DELSLOTS slot [slot ...]", -3, _ADMIN, "3.0.0", "Set hash slots as unbound in receiving node", "",
     "O(N) where N is the total number of hash slot arguments"),
    ("DELSLOTSRANGE start-slot end-slot [start-slot end-slot ...]", -4, _ADMIN, "7.0.0",
     "Set hash slots as unbound in receiving node", "",
     "O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    ("FAILOVER [FORCE | TAKEOVER]", -2, _ADMIN, "3.0.0",
     "Forces a replica to perform a manual failover of its master.", "", "O(1)"),
    ("FLUSHSLOTS", 2, _ADMIN, "3.0.0", "Delete a node's own slots information", "", "O(1)"),
    ("FORGET node-id", 3, _ADMIN, "3.0.0", "Remove a node from the nodes table", "", "O(1)"),
    ("GETKEYSINSLOT slot count", 4, "stale", "3.0.0", "Return local key names in the specified hash slot",
     "nondeterministic_output", "O(log(N)) where N is the number of requested keys"),
    ("HELP", 2, "loading stale", "5.0.0", "Show helpful text about the different subcommands", "", "O(1)"),
    ("INFO", 2, "stale", "3.0.0", "Provides info about Redis Cluster node state", "nondeterministic_output", "O(1)"),
    ("KEYSLOT key", 3, "stale", "3.0.0", "Returns the hash slot of the specified key", "",
     "O(N) where N is the number of bytes in the key"),
    ("LINKS", 2, "stale", "7.0.0", "Returns a list of all TCP links to and from peer nodes in cluster",
     "nondeterministic_output", "O(N) where N is the total number of Cluster nodes"),
    ("MEET ip port [cluster_bus_port]", -4, _ADMIN, "3.0.0", "Force a node cluster to handshake with another node",
     "", "O(1)"),
    ("MYID", 2, "stale", "3.0.0", "Return the node id", "", "O(1)"),
    ("NODES", 2, "stale", "3.0.0", "Get Cluster config for the node", "nondeterministic_output",
     "O(N) where N is the total number of Cluster nodes"),
    ("REPLICAS node-id", 3, "admin stale", "5.0.0", "List replica nodes of the specified master node",
     "nondeterministic_output", "O(1)"),
    ("REPLICATE node-id", 3, _ADMIN, "3.0.0", "Reconfigure a node as a replica of the specified master node", "",
     "O(1)"),
    ("RESET [HARD | SOFT]", -2, "admin noscript stale", "3.0.0", "Reset a Redis Cluster node", "",
     "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect."),
    ("SAVECONFIG", 2, _ADMIN, "3.0.0", "Forces the node to save cluster state on disk", "", "O(1)"),
    ("SET-CONFIG-EPOCH config-epoch", 3, _ADMIN, "3.0.0", "Set the configuration epoch in a new node", "", "O(1)"),
    ("SETSLOT slot IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE", -4, _ADMIN, "3.0.0",
     "Bind a hash slot to a specific node", "", "O(1)"),
    ("SHARDS", 2, "stale", "7.0.0", "Get array of cluster slots to node mappings", "nondeterministic_output",
     "O(N) where N is the total number of cluster nodes"),
    ("SLAVES node-id", 3, "admin stale", "3.0.0", "List replica nodes of the specified master node",
     "nondeterministic_output", "O(1)"),
    ("SLOTS", 2, "stale", "3.0.0", "Get array of Cluster slot to node mappings", "nondeterministic_output",
     "O(N) where N is the total number of Cluster nodes"),
]

for _syntax, _arity, _flags, _since, _summary, _tips, _complexity in _SUBCOMMANDS:
    command(f"CLUSTER {_syntax}", arity=_arity, flags=_flags, group=_GROUP, since=_since, summary=_summary,
            tips=_tips, complexity=_complexity)(cluster_disabled)


_CONNECTION = [
    ("ASKING", "fast", "Sent by cluster clients after an -ASK redirect"),
    ("READONLY", "fast loading stale", "Enables read queries for a connection to a cluster replica node"),
    ("READWRITE", "fast loading stale", "Disables read queries for a connection to a cluster replica node"),
]

for _name, _flags, _summary in _CONNECTION:
    command(_name, arity=1, flags=_flags, group=_GROUP, acl="connection", since="3.0.0",
            summary=_summary)(cluster_disabled)
