"""Lead rotation bot: a Slack bot that runs a sales team's weighted lead rotation."""

__version__ = "0.1.0"
