"""The Slack front end: translates Slack requests into calls on the core's `RoutingService`.

Nothing here decides who gets a lead; it parses, calls the service and renders its answers.
`runtime.SlackRuntime` is the entry point the server uses.
"""
