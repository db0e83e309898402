"""CRM write-back: the lead's owner goes back to the CRM it came from.

- `config`: the routing config's `crm:` section (which CRM, which object, where the id is).
- `errors`: `CrmError`, a failed call as the delivery loop reads it (retry after, or never).
- `http`: one aiohttp session per CRM, answers read bounded, statuses turned into errors.
- `hubspot`, `salesforce`, `pipedrive`: each vendor's documented REST calls (set the owner,
  find an owner by email); `salesforce_auth`: its client-credentials token and refresh.
- `clients`: the client for a config and the environment's credentials.
- `owners`: owner ids found by email, cached in memory per process.
- `transport`: the outbox transport for `crm` messages (ordering per lead, owner lookup).
- `check`: `rotation config check`'s look at members whose email matches no CRM owner.

Nothing here is imported by the core: the core only owes `crm` messages in the outbox.
"""
