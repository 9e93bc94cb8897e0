"""Boot: the definitions log and the message store replayed into the broker's vhosts.

Durable exchanges, queues and bindings are rebuilt as they were declared (no checks: they were
checked when declared); then every live persistent message goes back into its queues in
publish order (as paged-out store ids; the first batch of each queue is read at once), marked
redelivered if it had been delivered.
"""

from __future__ import annotations

from yizhan.amqp import codec
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.exchanges import Binding, new_exchange
from yizhan.amqp.queue import Queue


def recover(store, broker) -> None:
    state = store.definitions.load()
    broker.restore_accounts(state)  # vhosts, users, permissions (amqp/broker.py)
    for record in state.exchanges.values():
        vhost = broker.add_vhost(record["vhost"])
        if record["name"] in vhost.exchanges:
            continue
        vhost.exchanges[record["name"]] = new_exchange(
            record["type"], record["name"], durable=True, auto_delete=record["auto_delete"],
            internal=record["internal"], arguments=_table(record["args"]))
    for record in state.queues.values():
        vhost = broker.add_vhost(record["vhost"])
        vhost.queues[record["name"]] = Queue(vhost, record["name"], durable=True,
                                             auto_delete=record["auto_delete"],
                                             arguments=_table(record["args"]))
    for record in state.bindings.values():
        _bind(broker, record)
    _recover_messages(store, broker)


def _bind(broker, record: dict) -> None:
    vhost = broker.vhosts.get(record["vhost"])
    if vhost is None:
        return
    source = vhost.exchanges.get(record["source"])
    table = vhost.queues if record["kind"] == "queue" else vhost.exchanges
    destination = table.get(record["dest"])
    if source is None or destination is None:
        return
    binding = Binding(source, destination, record["key"], _table(record["args"]) or None)
    if source.add(binding):
        destination.bound_from[(source.name,) + binding.ident] = binding


def _recover_messages(store, broker) -> None:
    """Each durable queue gets its live messages back as paged-out ids (read on demand);
    those of queues that no longer exist leave the store."""
    queues = {}
    for vhost in broker.vhosts.values():
        for queue in vhost.queues.values():
            queues[f"{vhost.name}\x00{queue.name}"] = queue
    messages = store.messages
    for key, found in messages.load().items():
        queue = queues.get(key)
        if queue is None:  # deleted while the server was down? drop it from the store
            messages.queue_deleted(key, found.ids)
            continue
        queue.restore(found.ids, found.delivered)
    messages.flush(sync=True)


def _table(hex_text: str) -> FieldTable:
    if not hex_text:
        return FieldTable()
    return codec.decode_table(bytes.fromhex(hex_text)[4:])
