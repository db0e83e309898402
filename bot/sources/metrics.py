"""Per-source counts on /metrics: requests received and refused, leads routed, payloads parked."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

OUTCOMES = ("received", "routed", "parked", "refused", "ignored")


class SourceMetrics:
    """`rotation_source_total{source, outcome}`, on the app's registry. Only configured source
    names become labels (an unknown name is a 404 and is not counted), so the series are few."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter("rotation_source", "Lead source requests and what became of their payloads.",
                               ["source", "outcome"], registry=registry)

    def count(self, source: str, outcome: str, amount: int = 1) -> None:
        if amount:
            self.counter.labels(source, outcome).inc(amount)
