"""Attack: scraping /metrics on the public listener. With ROTATION_METRICS_TOKEN set it
answers only a scraper that sends the token; without it, /metrics stays open as before."""

from __future__ import annotations

from web_support import ServeFactory

from bot.config.settings import Settings

METRICS_TOKEN = "scrape-me-please"


async def test_metrics_without_the_token_is_401_in_words(serve: ServeFactory) -> None:
    """Attack: an anonymous GET /metrics, and one with the intake token instead."""
    app = await serve(metrics_token=METRICS_TOKEN)
    await app.post_lead({"id": "M-1"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer test-intake-token"}):
        async with app.http.get(f"{app.url}/metrics", headers=headers) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"
            body = await response.json()
        assert "ROTATION_METRICS_TOKEN" in body["error"]
        assert "rotation_leads_received" not in str(body)
    scraper = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with app.http.get(f"{app.url}/metrics", headers=scraper) as response:
        assert response.status == 200
        assert 'rotation_leads_received_total{queue="emea"} 1.0' in await response.text()


async def test_metrics_stay_open_without_a_metrics_token(serve: ServeFactory) -> None:
    """Unset, nothing changes for today's scrapers."""
    app = await serve()
    async with app.http.get(f"{app.url}/metrics") as response:
        assert response.status == 200
        assert "rotation_intake_requests" in await response.text()


def test_the_metrics_token_is_read_from_the_environment_and_never_shown() -> None:
    settings = Settings.from_env({"ROTATION_METRICS_TOKEN": f"  {METRICS_TOKEN} "})
    assert settings.metrics_token == METRICS_TOKEN
    assert Settings.from_env({"ROTATION_METRICS_TOKEN": " "}).metrics_token is None
    assert METRICS_TOKEN not in repr(settings)
