"""Fixtures for tests/sources (defined in sources_support, which the tests also import helpers from)."""

from sources_support import sources_app, sqlite_sources_app

__all__ = ["sources_app", "sqlite_sources_app"]
