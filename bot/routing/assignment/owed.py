"""The messages a decided lead owes: written with it, in its transaction (the outbox).

An offer owes the rep's DM, the queue channel's announcement, the webhook's update when one
is configured and the CRM's owner when the team writes back to one; a lead nobody could take
owes its queue's channel a "waiting" post. New leads and re-offers owe the same.
"""

from __future__ import annotations

from dataclasses import replace

from bot.routing.assignment.decision import Decision
from bot.routing.events import CRM, WEBHOOK, CrmOwner, LeadAssigned, LeadUnassigned, Recipient, lead_card
from bot.routing.outbox import Outbox
from bot.routing.team import TeamSettings


def has_crm(team: TeamSettings) -> bool:
    """Whether assignments are written back to a CRM (the config's `crm:`)."""
    return bool(team.settings.get("crm"))


def owe(outbox: Outbox, decision: Decision, *, webhook: bool, crm: bool) -> None:
    """What `decision` owes, once its assignment id is known (nothing for a repeat)."""
    opened, winner = decision.opened, decision.winner
    if decision.repeat or opened is None:
        return
    lead_id = decision.lead_id
    if winner is None:
        if opened.info.channel:
            waiting = LeadUnassigned(queue=opened.info.name, lead=lead_card(lead_id, decision.fields),
                                     reason=decision.reason)
            to = Recipient.channel(opened.info.channel)
            outbox.owe(f"unassigned:{lead_id}:{decision.hop}", waiting, to, lead_id)
        return
    assignment_id = decision.assignment_id
    assert assignment_id is not None, "a placed lead owes its messages once its assignment is written"
    event = LeadAssigned(
        assignment_id=assignment_id,
        cause=decision.cause,
        lead=lead_card(lead_id, decision.fields),
        queue=opened.info.name,
        rule=decision.rule,
        assignee={"slack_id": winner.slack_id, "name": winner.name},
        summary=decision.explanation["summary"],
        sla_minutes=opened.info.sla_minutes,
        offered_at=outbox.now.isoformat(),
    )
    key = f"assignment:{assignment_id}"
    outbox.owe(f"{key}:dm", event, Recipient.dm(winner.slack_id), lead_id)
    if opened.info.channel:
        outbox.owe(f"{key}:channel", event, Recipient.channel(opened.info.channel), lead_id)
    if webhook:
        outbox.owe(f"{key}:webhook", replace(event, fields=decision.fields), WEBHOOK, lead_id)
    if crm:
        outbox.owe(f"{key}:crm", CrmOwner(assignment_id, lead_id, winner.slack_id), CRM, lead_id)
