"""Every kind of source by its config name."""

from __future__ import annotations

from bot.sources.kind import Kind
from bot.sources.kinds.calendly import CalendlyKind
from bot.sources.kinds.form import FormKind
from bot.sources.kinds.hubspot import HubSpotKind
from bot.sources.kinds.json_body import JsonKind
from bot.sources.kinds.pipedrive import PipedriveKind
from bot.sources.kinds.salesforce import SalesforceKind
from bot.sources.kinds.tally import TallyKind
from bot.sources.kinds.typeform import TypeformKind
from bot.sources.kinds.webflow import WebflowKind

KIND_BY_NAME: dict[str, Kind] = {kind.name: kind for kind in (
    JsonKind(), FormKind(), TypeformKind(), SalesforceKind(), HubSpotKind(), CalendlyKind(), TallyKind(),
    WebflowKind(), PipedriveKind())}


def kind_of(name: str) -> Kind:
    return KIND_BY_NAME[name]
