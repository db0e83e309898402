"""Lead sources: leads straight from where they live (`sources:` in the config, POST /sources/{name}).

config.py (the `sources:` entries), kind.py (what a kind is) and kinds/ (one module per sender),
registry.py (every kind by name: the one list), signatures.py and signed_kind.py (the HMAC
webhook scheme most vendors share), mapping.py (JMESPath), intake.py (a request from bytes to committed
leads), parked.py (what could not be a lead), lead_source.py (`leads.source`), notify.py (the
managers' note), metrics.py, stored.py (the applied config's sources), cli.py (`rotation sources`).
Nothing here imports aiohttp: bot/web/sources.py translates HTTP for intake.py.
"""
