"""The client of the CRM a routing config's `crm:` names, with the environment's credentials."""

from __future__ import annotations

from typing import Any, Protocol

from bot.config.settings import Settings
from bot.crm.config import CrmConfig
from bot.crm.errors import CrmError
from bot.crm.http import CrmHttp
from bot.crm.hubspot import HubSpot
from bot.crm.pipedrive import Pipedrive
from bot.crm.salesforce import Salesforce
from bot.crm.salesforce_auth import SalesforceAuth


class CrmClient(Protocol):
    """What the write-back asks of every CRM."""

    kind: str
    vendor: str

    async def set_owner(self, obj: str, record_id: str, owner_id: str) -> dict[str, Any]: ...

    async def find_owners(self, email: str) -> dict[str, str | None]:
        """Owner ids by email (lower case) learned while looking `email` up; `email` is in it,
        mapped to None when no owner has it."""
        ...


def client_for(config: CrmConfig, settings: Settings, http: CrmHttp) -> CrmClient:
    """The client for `config`, or a CrmError (permanent) naming the variables to set."""
    if config.kind == "hubspot":
        if not settings.hubspot_token:
            raise _missing("HubSpot", "HUBSPOT_TOKEN (a private app's access token)")
        return HubSpot(http, settings.hubspot_api_url, settings.hubspot_token)
    if config.kind == "pipedrive":
        if not settings.pipedrive_api_token:
            raise _missing("Pipedrive", "PIPEDRIVE_API_TOKEN (a user's personal API token)")
        return Pipedrive(http, settings.pipedrive_api_url, settings.pipedrive_api_token)
    if not settings.salesforce_instance_url:
        raise _missing("Salesforce", "SALESFORCE_INSTANCE_URL (your My Domain URL)")
    credentials = settings.salesforce_client_id and settings.salesforce_client_secret
    if not settings.salesforce_token and not credentials:
        raise _missing("Salesforce", "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET, or SALESFORCE_TOKEN")
    auth = SalesforceAuth(http, settings.salesforce_instance_url, client_id=settings.salesforce_client_id,
                          client_secret=settings.salesforce_client_secret, token=settings.salesforce_token)
    return Salesforce(http, auth, config.salesforce_version)


def _missing(vendor: str, what: str) -> CrmError:
    return CrmError(f"The routing config writes owners back to {vendor}, but {what} is not set",
                    permanent=True)
