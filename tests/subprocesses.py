"""For tests that run the platform in a child process against the test database."""

from __future__ import annotations

from django.db import connection


def database_url() -> str:
    """The test database as a ``DATABASE_URL`` a child process can use."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return (
        f"postgres://{config['USER']}{password}@{config['HOST'] or '127.0.0.1'}:"
        f"{config['PORT'] or 5432}/{config['NAME']}"
    )
