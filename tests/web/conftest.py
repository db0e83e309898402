"""Fixtures for tests/web (defined in web_support, which the tests also import helpers from)."""

from web_support import serve, sqlite_url

__all__ = ["serve", "sqlite_url"]
