"""Per-source counts on /metrics: received, routed, parked, refused (and ignored)."""

from __future__ import annotations

import json

from sources_support import TOKEN, Sources

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_metrics_count_each_source_s_requests_and_payloads(sources_app: Sources) -> None:
    batch = [{"id": "M-1"}, {"id": "M-2"}, {"name": "no id"}]
    await sources_app.post("feed", json.dumps(batch).encode(), AUTH)
    await sources_app.post("feed", b"{}", {"Authorization": "Bearer wrong"})
    await sources_app.post("nowhere", b"{}", AUTH)  # no such source: not a label
    async with sources_app.http.get(f"{sources_app.url}/metrics") as answer:
        text = await answer.text()
    assert 'rotation_source_total{outcome="received",source="feed"} 2.0' in text
    assert 'rotation_source_total{outcome="routed",source="feed"} 2.0' in text
    assert 'rotation_source_total{outcome="parked",source="feed"} 1.0' in text
    assert 'rotation_source_total{outcome="refused",source="feed"} 1.0' in text
    assert "nowhere" not in text
    assert 'rotation_leads_received_total{queue="emea"} 2.0' in text  # counted as /leads counts leads
