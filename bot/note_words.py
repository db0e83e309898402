"""The core's facts about a lead (`bot.routing.events.LeadNote`) in plain words, one sentence each.

Why here and not in the core: the core says what happened (a lead moved on, was reassigned,
ran out of SLA moves); the front ends say it. Slack escapes these words for mrkdwn
(`bot.slack.messages`) and the log writes them as they are (`bot.delivery.transports`), so
both read the same sentence, the one reps and managers have always been sent.
"""

from __future__ import annotations

from bot.routing.events import Cause, LeadMoved, LeadNote, LeadReassigned, SlaExhausted


def note_words(note: LeadNote) -> str:
    lead_id = str(note.lead.get("id", "?"))
    match note:
        case LeadMoved():
            where = f"it now goes to {note.now_with}" if note.now_with else "it is waiting for someone"
            why = (f"was not accepted within the {note.queue} SLA" if note.cause == Cause.SLA
                   else f"moved on in {note.queue}")
            return f"Lead {lead_id} {why}, so {where}."
        case LeadReassigned():
            return f"Lead {lead_id} was reassigned by a manager; it is now with {note.now_with}."
        case SlaExhausted():
            where = (f"it is now with {note.now_with}, its last hop" if note.now_with
                     else "it is waiting unassigned")
            return f"Lead {lead_id} was not accepted after {note.offers} offers; {where}. Please step in."
