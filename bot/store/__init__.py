"""Storage: SQLAlchemy 2 models, the async engine and the Alembic migrations.

Nothing here knows about Slack or HTTP; the routing core builds on it.
"""
