"""Redis replication with redis-server as the other side, both ways.

`backlog` holds the last `repl-backlog-size` bytes of the replication stream; `master` is the
master role (the replicas attached to this instance, full and partial resynchronization, the
stream fed from the one propagation point, persistence.aof.AOF, WAIT and min-replicas-to-write);
`replica` is the sans-IO core of the link to a master (handshake, RDB transfer, the stream
applied, ACKs); `state` ties them to an instance (INFO replication, ROLE, REPLICAOF). The
socket of the link lives in net/replica_transport.py."""
