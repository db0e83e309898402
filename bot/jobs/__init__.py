"""Background jobs: small idempotent loops that call the routing core on a schedule.

`runner.JobRunner` runs them (one replica at a time per job, through `leases`); each job
module exposes `run(context)` and a default interval.
"""
