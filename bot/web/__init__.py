"""The HTTP front end: lead intake, lead lookup, health, metrics, and Slack's endpoint."""
