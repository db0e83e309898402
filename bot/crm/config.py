"""The routing config's `crm:` section: which CRM gets the owner, on which object.

Pure pydantic (no HTTP): the config's schema imports it, and the core imports the schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

CrmKind = Literal["hubspot", "salesforce", "pipedrive"]

# The objects each CRM's write-back may set the owner of, as the vendor's API names them.
OBJECTS: dict[str, tuple[str, ...]] = {
    "hubspot": ("contacts", "deals"),
    "salesforce": ("Lead", "Contact"),
    "pipedrive": ("persons", "deals"),
}
VENDORS = {"hubspot": "HubSpot", "salesforce": "Salesforce", "pipedrive": "Pipedrive"}
SALESFORCE_API_VERSION = "v62.0"


def _owner_id_text(value: Any) -> Any:
    """An owner id as text: YAML reads `crm_owner_id: 1234` as a number, and ids are strings
    to every CRM (HubSpot's "1234", Salesforce's "005…", Pipedrive's 1234 sent back as given)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# A member's owner id in the CRM, as the config gives it (`crm_owner_id`).
OwnerId = Annotated[str, BeforeValidator(_owner_id_text),
                    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class CrmConfig(BaseModel):
    """`crm: {kind, object, record_id_field}`; `api_version` for Salesforce only."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: CrmKind
    object: str = Field(min_length=1, max_length=64)
    record_id_field: str = Field("id", min_length=1, max_length=200)
    api_version: str | None = Field(None, pattern=r"^v\d{2,3}\.\d$")

    @model_validator(mode="after")
    def _object_of_kind(self) -> CrmConfig:
        allowed = OBJECTS[self.kind]
        if self.object not in allowed:
            # Salesforce names objects in CamelCase, the others in lower case: say which.
            near = next((name for name in allowed if name.lower() == self.object.lower()), None)
            hint = f' (write "{near}")' if near else ""
            raise ValueError(f'{VENDORS[self.kind]} write-back sets the owner of '
                             f'{" or ".join(allowed)}, not "{self.object[:64]}"{hint}')
        if self.api_version is not None and self.kind != "salesforce":
            raise ValueError("api_version is for Salesforce only")
        return self

    @property
    def vendor(self) -> str:
        return VENDORS[self.kind]

    @property
    def salesforce_version(self) -> str:
        return self.api_version or SALESFORCE_API_VERSION
