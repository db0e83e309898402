"""`rotation config check`'s look at the CRM: members whose email matches no CRM owner.

When the config has `crm:` and the environment holds that CRM's credentials, every member
without a `crm_owner_id` is looked up by email, as the write-back will; one whose email
matches no owner (or who has neither) is named, as a warning: the config applies, but their
leads' owner cannot be written back. A CRM that cannot be reached (or refuses the token) is
a note: nothing was checked, and such a member is named in the managers' channel when a
lead of theirs is written back instead.
"""

from __future__ import annotations

import asyncio

from bot.config.problems import ConfigProblem
from bot.config.schema import RoutingConfig
from bot.config.settings import Settings
from bot.crm.clients import client_for
from bot.crm.errors import CrmError
from bot.crm.http import CrmHttp
from bot.crm.owners import OwnerDirectory

CHECK_TIMEOUT = 10.0  # seconds per call while checking


def check_owners(config: RoutingConfig, settings: Settings) -> list[ConfigProblem]:
    """`owner_problems`, for a command that is not async."""
    if config.crm is None:
        return []
    return asyncio.run(owner_problems(config, settings))


async def owner_problems(config: RoutingConfig, settings: Settings) -> list[ConfigProblem]:
    crm = config.crm
    if crm is None:
        return []
    http = CrmHttp(timeout=CHECK_TIMEOUT)
    try:
        try:
            client = client_for(crm, settings, http)
        except CrmError as error:
            return [ConfigProblem("crm", f"{error}, so members' {crm.vendor} owners were not checked",
                                  level="note")]
        directory = OwnerDirectory()
        problems = []
        for n, member in enumerate(config.members):
            if member.crm_owner_id:
                continue
            where = f"members[{n}]"
            if not member.email:
                problems.append(ConfigProblem(
                    where, f"{member.slack_id} has no email and no crm_owner_id, so their leads' "
                    f"{crm.vendor} owner cannot be set", level="warning"))
                continue
            try:
                owner = await directory.owner_id(client, member.email)
            except CrmError as error:
                return [*problems, ConfigProblem(
                    "crm", f"{crm.vendor} could not be asked for owners ({error}); members' owners were "
                    "not checked: a member whose email matches none is named in the managers' channel "
                    "when a lead of theirs is written back", level="note")]
            if owner is None:
                problems.append(ConfigProblem(
                    f"{where}.email", f"no {crm.vendor} owner has the email {member.email} "
                    f"({member.slack_id}): give their crm_owner_id, or add them to {crm.vendor} with that "
                    "email", level="warning"))
        return problems
    finally:
        await http.close()
