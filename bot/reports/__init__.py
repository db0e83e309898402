"""What a period report looks like outside the core: its chart (PNG pages) for Slack and
the CLI. The figures themselves are the core's (`bot.routing.ledger.report`); the text,
table and CSV are `bot.report_format`'s."""
