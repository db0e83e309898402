"""Errors the core raises for a person to read: plain words, nothing changed."""


class RoutingError(Exception):
    """A request the core refuses; `str(error)` is the answer to show."""


class NotFound(RoutingError):
    pass


class AlreadyDone(RoutingError):
    """The same request was already carried out (a second click on Save): nothing more changed."""


class CapacityTaken(Exception):
    """Another transaction filled a member's last open slot after we read their count.

    Routing is serialized per queue, not per member, so two queues (or replicas) sharing a
    member with a capacity can both give them "the last" lead. The transaction that
    notices is rolled back and routed again, now seeing the member at capacity.
    """


class InvalidChange(RoutingError):
    """A change that cannot be made; `field` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# Refusals about a member's own availability. Their words are neutral; a front end may add
# its own advice (Slack names the command that helps: see bot/slack/refusals.py).
class AlreadyPaused(InvalidChange):
    """A pause asked for that is the pause already in force."""


class NotPaused(InvalidChange):
    """A resume for someone who is not paused."""


class OnLeave(NotPaused):
    """A resume for someone who is away on leave, which a resume does not end."""


class LeaveOverlaps(InvalidChange):
    """A new leave that overlaps one already scheduled."""


class NoSuchLeave(InvalidChange):
    """A leave number the member does not have."""
