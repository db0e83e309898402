"""Errors the core raises for a person to read: plain words, nothing changed."""


class RoutingError(Exception):
    """A request the core refuses; `str(error)` is the answer to show."""


class NotFound(RoutingError):
    pass


class InvalidChange(RoutingError):
    """A change that cannot be made; `field` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
