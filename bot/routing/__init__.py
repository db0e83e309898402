"""The routing core: rules pick a queue, fairness picks a member, all explained.

No Slack and no aiohttp here: the core is driven by the CLI, the webhook, the Slack app
and the background jobs alike, through `bot.routing.service.RoutingService`, and it
answers with typed data (`results.py`, each room's own results) that they word.

The rooms, lowest first: a room imports only itself and the rooms before it, so every call
goes down (`tests/test_architecture.py` holds them to it). A lead enters at the top, in a
service, and walks down: assignment places it, the ledger reads its queue, availability
says who can take it now, fairness picks among them; rules chose the queue first.

- `rules/`: which queue a lead goes to, from its fields;
- `team.py`: the team's settings as one transaction reads them;
- `fairness/`: which eligible seat gets the next lead, one module per strategy;
- `availability/`: whether a member can take a lead now (pause, leave, hours, capacity);
- `ledger/`: each queue's seats and counts, read, kept between transactions, and saved;
- `assignment/`: a lead placed, offered, accepted, passed on or moved by the SLA;
- `admin/`: what managers change (config, calibrations, people);
- `service.py` and each room's `service.py`: one transaction per call (`transactions.py`
  holds the retries, the lock timeout and the hand-over to delivery).

Beside them: `outbox.py` and `events.py` (the messages a change owes, as typed events, in
its own transaction), `audit.py` (who did what), `errors.py`, `clock.py`.

Words used across the rooms:

- a *seat* is one member's place in one queue. It is stored as a `Membership` row; the
  fairness arithmetic holds it as a `Seat` (weight, lag, counts); the ledger holds a `Seat`
  with its member's facts (name, Slack id, timezone, availability) as a `SeatInfo`;
- a queue's *ledger* is its seats and its rotation clock for the current period: in the
  database its `memberships` and `queues` rows, in memory an `OpenQueue`;
- a *placement* is where `Router.place` found a lead should go; a *decision* is a
  placement charged and explained, which a `Batch` writes with its messages. A new lead
  and a re-offer are the same act: a decision.
"""
