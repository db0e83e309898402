"""What serve writes on its delivery child's stdin: a line per order.

- `wake`: new messages may be owed; claim what is due now.
- `take {json}`: one message the routing core wrote already claimed for this child until
  `lease_until` (see `bot.routing.outbox`); send it without claiming it.

Any other line counts as `wake`, so an order this child does not know still gets it to look.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.routing.outbox import Message

# How long a handed-over message stays claimed by the child it was handed to. The child
# normally sends it within milliseconds. A message still waiting its turn when less than
# `DeliveryLoop.lease_margin` of this is left is released, not sent (another replica may
# claim it once the lease runs out). If serve dies between the commit and the hand-over, the
# message waits this long, then any loop claims it: short enough for a restart not to wait long.
HANDOVER_LEASE = timedelta(seconds=15)
WAKE = b"wake\n"
TAKE = "take "
# A line holds one message: the lead's fields, bounded by ROTATION_MAX_BODY_BYTES, and a
# little more. The pipe reader refuses longer lines; this is far above any real lead.
MAX_LINE_BYTES = 64 * 1024 * 1024


def take_line(message: Message) -> bytes:
    """The order handing `message` over (written claimed, so its lease is known)."""
    assert message.created_at is not None and message.lease_until is not None, "a handed-over message"
    body = {"id": message.id, "key": message.key, "kind": message.kind, "payload": message.payload,
            "lead_id": message.lead_id, "attempts": message.attempts,
            "created_at": message.created_at.isoformat(), "lease_until": message.lease_until.isoformat()}
    return (TAKE + json.dumps(body, separators=(",", ":")) + "\n").encode()


def read_order(line: bytes) -> Message | None:
    """The message a `take` line hands over; None for a wake (or any other line)."""
    text = line.decode(errors="replace")
    if not text.startswith(TAKE):
        return None
    body = json.loads(text[len(TAKE):])
    return Message(id=int(body["id"]), key=body["key"], kind=body["kind"], payload=body["payload"],
                   lead_id=body["lead_id"], attempts=int(body["attempts"]),
                   created_at=datetime.fromisoformat(body["created_at"]),
                   lease_until=datetime.fromisoformat(body["lease_until"]))
