"""The routing core: rules pick a queue, fairness picks a member, all explained.

No Slack and no aiohttp here: the core is driven by the CLI, the webhook, the Slack app
and the background jobs alike, through `bot.routing.service.RoutingService`.
"""
