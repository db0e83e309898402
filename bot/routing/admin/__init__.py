"""Admin: what managers and operators change: the config applied and exported, calibrations.

- `roster.py`: a routing config applied to the database, and the database exported as one;
- `calibration.py`: a manager's change to a seat (weight, +N, active, queue membership);
- `weights.py`: weights, shares and priorities as people write them, read exactly;
- `preview.py`: the next picks of a queue with a calibration applied, never committed.
"""
