"""Ledger: each queue's counts and lags in the database, periods, and what they add up to.

- `queues.py`: a queue's ledger opened (locked, its seats loaded) and saved back;
- `periods.py`: which period a moment is in; `standings.py`: standings, member status
  and the period report.
"""
