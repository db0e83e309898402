"""Fixtures for tests/web (defined in web_support, which the tests also import helpers from);
`fake_slack` and `sqlite_url` come from tests/conftest.py."""

from web_support import serve

__all__ = ["serve"]
