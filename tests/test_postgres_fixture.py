"""The throwaway PostgreSQL fixture works: real server, fresh database per test."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

try:
    from tests.postgres import unique_database_name
except ImportError:  # tests/ is not a package
    from postgres import unique_database_name  # type: ignore[no-redef]


async def test_postgres_url_is_a_working_empty_database(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            version = (await conn.execute(text("select version()"))).scalar_one()
            assert "PostgreSQL" in version
            tables = (
                await conn.execute(text("select count(*) from pg_tables where schemaname = 'public'"))
            ).scalar_one()
            assert tables == 0
            await conn.execute(text("create table widget (id serial primary key, name text)"))
            await conn.execute(
                text("insert into widget (name) values (:a), (:b)"), {"a": "ä-one", "b": "two"}
            )
        async with engine.connect() as conn:
            rows = (await conn.execute(text("select name from widget order by id"))).all()
            assert [r.name for r in rows] == ["ä-one", "two"]
    finally:
        await engine.dispose()


async def test_each_postgres_url_is_a_distinct_database(postgres_server, postgres_url) -> None:
    other_name = unique_database_name("other")
    other_url = postgres_server.create_database(other_name)
    assert other_url != postgres_url
    engines = [create_async_engine(postgres_url), create_async_engine(other_url)]
    try:
        names = []
        for engine in engines:
            async with engine.begin() as conn:
                names.append((await conn.execute(text("select current_database()"))).scalar_one())
                # Would fail with "relation already exists" if both were the same database.
                await conn.execute(text("create table only_here (x int)"))
        assert names[0] != names[1]
        assert names[1] == other_name
    finally:
        for engine in engines:
            await engine.dispose()
        postgres_server.drop_database(other_name)
