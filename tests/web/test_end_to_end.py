"""Intake to Slack in one process over real sockets: POST /leads, then the DM and the channel post."""

from __future__ import annotations

import asyncio

import aiohttp
from web_support import AUTH, TOKEN, FakeSlack, prepared_service, start_app

from bot.config.settings import Settings
from bot.delivery.loop import DeliveryLoop
from bot.delivery.transports import default_transports
from bot.web.app import create_app
from bot.web.metrics import Metrics


async def test_a_lead_reaches_the_rep_and_the_channel(sqlite_url: str) -> None:
    from bot.slack.runtime import SlackRuntime

    async with FakeSlack() as fake:
        settings = Settings(database_url=sqlite_url, intake_token=TOKEN, slack_bot_token="xoxb-test",
                            slack_signing_secret="secret", slack_api_url=fake.api_url)
        service = await prepared_service(sqlite_url)
        slack = SlackRuntime.from_settings(settings, service)
        assert slack is not None
        metrics, wake, stop = Metrics(), asyncio.Event(), asyncio.Event()
        service.transactions.on_commit = wake.set  # as `rotation serve` wakes its delivery loop
        runner, url = await start_app(create_app(service, settings, slack, metrics=metrics))
        loop = DeliveryLoop(service.db, default_transports(slack, None, None), service=service,
                            metrics=metrics, wake=wake, poll_interval=30)
        delivering = asyncio.create_task(loop.run(stop))
        try:
            async with aiohttp.ClientSession() as http:
                lead = {"id": "E2E-1", "name": "Ada Lovelace", "email": "ada@analytical.example",
                        "company": "Analytical Engines"}
                async with http.post(f"{url}/leads", json=lead, headers=AUTH) as response:
                    assert response.status == 201
                    body = await response.json()
                # the wake event, not the 30 s poll, sends them
                calls = await fake.wait_for("chat.postMessage", 2, timeout=3)
                async with http.post(f"{url}/slack/events", data=b"command=/rotation") as response:
                    assert response.status == 401  # unsigned: the runtime, not our 503
        finally:
            stop.set()
            await delivering
            await runner.cleanup()
            await slack.close()
            await service.db.dispose()
    by_channel = {c.body["channel"]: c.body for c in calls}
    assert set(by_channel) == {body["assignee"]["slack_id"], "C0EMEA"}
    for message in by_channel.values():
        text = message["text"] + str(message.get("blocks") or "")
        assert "E2E-1" in text and "Ada Lovelace" in text
    assert metrics.deliveries.labels("dm")._value.get() == 1
