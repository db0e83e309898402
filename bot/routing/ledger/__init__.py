"""Ledger: each queue's counts and lags in the database, periods, and what they add up to.

- `queues.py`: a queue's ledger opened (locked, its seats loaded) and saved back;
- `cache.py`: each queue's ledger kept in memory between transactions while its
  `versions.py` version says it is current; `eligible_now.py`: who may take a lead now,
  kept until the next moment that can change it;
- `periods.py`: which period a moment is in; `period_opening.py`: periods opened on time;
- `standings.py`: standings and member status; `report.py`: the period report;
- `service.py`: each of the above as one transaction.
"""
