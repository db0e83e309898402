"""Every kind of source by its config name: the one list the config, `config check` and the
web layer read. Adding a kind is its module in kinds/ and one line here."""

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


def by_name(*kinds: Kind) -> dict[str, Kind]:
    """The kinds by name, in the order given (the order `config check` lists them); a kind that
    does not say what config check must tell about it fails here, at import, not per request."""
    found: dict[str, Kind] = {}
    for kind in kinds:
        name = getattr(kind, "name", "")
        if not name or name in found:
            raise TypeError(f"{type(kind).__name__} needs a `name` of its own (got {name!r})")
        if kind.secret is None and not kind.unsigned_because:
            raise TypeError(f"the {name} kind takes no secret: say why in `unsigned_because`")
        if kind.secret is not None and kind.unsigned_because:
            raise TypeError(f"the {name} kind takes a secret, so it cannot be `unsigned_because`")
        found[name] = kind
    return found


KIND_BY_NAME: dict[str, Kind] = by_name(
    JsonKind(),
    FormKind(),
    TypeformKind(),
    SalesforceKind(),
    HubSpotKind(),
    CalendlyKind(),
    TallyKind(),
    WebflowKind(),
    PipedriveKind(),
)


def kind_of(name: str) -> Kind:
    return KIND_BY_NAME[name]
