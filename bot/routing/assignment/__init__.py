"""Assignment: a lead placed with a member, offered, accepted, passed on or expired.

- `router.py`: rules -> queue (-> fallback) -> member, explained: the one placement, and
  the decision it becomes, for a new lead and a re-offer alike;
- `decision.py`: that decision; `batch.py`: a transaction's decisions, written once at
  the end (the one write path); `owed.py`: the messages a decision owes;
- `group_commit.py`: leads arriving during a transaction share the next one;
- `offers.py`: what happens to an offer (accept, pass, SLA, waiting leads);
- `reassign.py`: a manager's reassign, and "Take it";
- `explain.py`: a decision in words and data, as stored and shown;
- `locks.py`: the one lock order on PostgreSQL, and the atomic moves of an offer;
- `lead_lookup.py`: a stored decision read back; `accounts.py`: sticky account keys;
- `service.py`: each of the above as one transaction.
"""
