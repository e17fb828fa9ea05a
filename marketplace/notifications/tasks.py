"""The queue's tasks for messages: send one delivery; take up the stuck ones again.

`send_delivery(id)` enqueues (huey); the consumer runs `deliver()` in an app context. A retry or
a message waiting for the end of quiet hours is scheduled again with huey's `schedule(delay=)`,
so the wait is read from the settings at run time. A row not there yet (notify() is called
inside the caller's transaction, which may not have committed when a fast consumer picks the
task up) is looked for again a few times; `resend_stuck_messages` catches anything lost.
"""

import logging

from marketplace.notifications import deliveries
from marketplace.queue import huey, in_app

log = logging.getLogger("marketplace.messages")

MISSING_TRIES = 5


@huey.task(name="messages.send_delivery")
@in_app
def send_delivery(delivery_id: int, missing: int = 0) -> str:
    outcome, wait = deliveries.deliver(delivery_id)
    if outcome == "missing" and missing < MISSING_TRIES and not huey.immediate:
        send_delivery.schedule((delivery_id, missing + 1), delay=2 ** missing)
    elif wait and not huey.immediate:
        send_delivery.schedule((delivery_id,), delay=wait)
    elif outcome == "retry" and huey.immediate:  # immediate mode: retried at once (MESSAGE_RETRY_SECONDS=0)
        return send_delivery.call_local(delivery_id)
    return outcome


def enqueue(planned) -> None:
    for delivery in planned:
        if delivery.not_before is not None:
            send_delivery.schedule((delivery.id,), eta=delivery.not_before)  # huey's eta: naive UTC
        else:
            send_delivery(delivery.id)


def recover() -> int:
    """The periodic job: enqueue the stuck deliveries again (deliver() decides what to send)."""
    ids = [row.id for row in deliveries.stuck()]
    for delivery_id in ids:
        send_delivery(delivery_id)
    return len(ids)
