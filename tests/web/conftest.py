"""Fixtures for tests/web (defined in web_support, which the tests also import helpers from)."""

from web_support import fake_slack, serve, sqlite_url

__all__ = ["fake_slack", "serve", "sqlite_url"]
