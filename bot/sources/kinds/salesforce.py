"""`salesforce`: SOAP Outbound Messages (`text/xml`, up to 100 `Notification`s each), parsed
with defusedxml so no DTD, entity or external reference is ever expanded. A message is from
our org when its `OrganizationId` matches `organization_id` on the first 15 characters (case
sensitive; 15 and 18 character ids are the same org). Each notification's `sObject` is a lead:
`id` its `Id`, every other field under its own name. The answer, once every lead in the
message is committed, is the SOAP acknowledgement `<Ack>true</Ack>`: that alone stops
Salesforce sending the message again.

Set up: in Salesforce, Setup → Process Automation → Workflow Actions → Outbound Messages →
New, paste https://YOUR-SERVER/sources/NAME as the Endpoint URL and pick the fields to send;
then a Flow or workflow rule that sends it. There is no secret to copy: put your org's id
(Setup → Company Information → Salesforce.com Organization ID) in `organization_id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.sources.kind import Answer, Delivered, Kind, RawRequest, Refused, Split

if TYPE_CHECKING:  # the config validates against the kinds: types only, no import cycle
    from bot.sources.config import SourceConfig

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACK = (b'<?xml version="1.0" encoding="UTF-8"?>'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
       b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       b"</notificationsResponse></soapenv:Body></soapenv:Envelope>")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


MAX_DEPTH = 8  # a related record's fields nest a level or two; deeper is no Outbound Message


def element_value(element: Element, depth: int = 0) -> Any:
    """A field's text; a related record (`sf:Owner` with fields inside) as a mapping. Past
    MAX_DEPTH the nesting is left out (None): a hostile body must not exhaust the stack."""
    if element.get(f"{{{XSI}}}nil") == "true" or depth > MAX_DEPTH:
        return None
    children = list(element)
    if children:
        return {local(child.tag): element_value(child, depth + 1) for child in children}
    return element.text if element.text is not None else ""


def notifications(body: bytes) -> Element:
    """The `notifications` element of an Outbound Message; Refused for anything else."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Refused(400, "The XML declares a DTD or entities, which no Outbound Message does; it was "
                           "not read.") from None
    except (ParseError, ValueError) as error:
        raise Refused(400, f"The body is not XML ({str(error)[:160]}).") from None
    found = root.find(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notifications")
    if found is None:
        raise Refused(400, "The body is not a Salesforce Outbound Message: there is no soapenv:Body/"
                           "notifications in it.")
    return found


class SalesforceKind(Kind):
    name = "salesforce"
    unsigned_because = "Outbound Messages are not signed; `organization_id` identifies them"
    options = frozenset({"organization_id"})

    def check(self, source: SourceConfig) -> str | None:
        if source.organization_id is None:
            return ("a salesforce source needs `organization_id`: your org's id (Setup → Company "
                    "Information → Salesforce.com Organization ID), 15 or 18 characters")
        return None

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        """From our org: Outbound Messages carry no signature, only the org's id."""
        self._from_our_org(notifications(request.body), source)

    def read(self, request: RawRequest, source: SourceConfig, secret: str | None, now: datetime,
             content_type: str) -> Split:
        message = notifications(request.body)  # parsed once: `authenticate` for the same check alone
        self._from_our_org(message, source)
        return self._split(message)

    def _from_our_org(self, message: Element, source: SourceConfig) -> None:
        org = (message.findtext(f"{{{OUTBOUND}}}OrganizationId") or "").strip()
        wanted = (source.organization_id or "")[:15]
        if len(org) < 15 or org[:15] != wanted:
            raise Refused(401, "This Outbound Message comes from another Salesforce org than the source's "
                               "organization_id. Nothing was stored.")

    def split(self, body: bytes, content_type: str) -> Split:
        try:
            return self._split(notifications(body))
        except Refused as refused:
            return Split(problem=refused.message)

    def _split(self, message: Element) -> Split:
        split = Split()
        for notification in message.findall(f"{{{OUTBOUND}}}Notification"):
            record = notification.find(f"{{{OUTBOUND}}}sObject")
            if record is None:
                split.problem = split.problem or "a Notification has no sObject"
                continue
            split.payloads.append({local(child.tag): element_value(child) for child in record})
        if not split.payloads and split.problem is None:
            split.problem = "the Outbound Message holds no Notification"
        return split

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        record_id = next((value for name, value in payload.items() if name.lower() == "id"), None)
        return {} if record_id is None else {"id": record_id}

    def answer(self, source: SourceConfig, delivered: Delivered) -> Answer:
        return Answer(200, ACK, "text/xml; charset=utf-8")
