"""Assignment: a lead placed with a member, offered, accepted, passed on or expired.

- `router.py`: rules -> queue (-> fallback) -> member, explained: the one placement;
- `batch.py`: new leads routed together in one transaction, written once at the end;
- `group_commit.py`: leads arriving during a transaction share the next one;
- `offers.py`: what happens to an offer (accept, pass, SLA, waiting leads);
- `locks.py`: the one lock order on PostgreSQL, and the atomic moves of an offer;
- `lead_lookup.py`: a stored decision read back; `accounts.py`: sticky account keys.
"""
