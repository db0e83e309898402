"""Admin: what managers and operators change: the config applied and exported, calibrations,
people, and what they read back about a member.

- `roster.py`: a routing config applied to the database, and the database exported as one;
- `calibration.py`: a manager's change to a seat (weight, +N, active, queue membership),
  weights and shares read exactly by `bot.routing.fairness.weights`;
- `people.py`: a person added to the rotation (in which queues, with which weight) or removed
  from it, and Slack's adds kept across config applies;
- `history.py`: a member's audit trail, newest first, a page at a time;
- `results.py`: what those changes did, as data the front ends word;
- `preview.py`: the next picks of a queue with a calibration applied, never committed;
- `service.py`: each of the above as one transaction.
"""
