"""Fixtures for tests/delivery: `fake_slack` and `sqlite_url` come from tests/conftest.py."""
