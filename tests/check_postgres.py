"""Fail fast when CI requires PostgreSQL and it is not reachable (run before pytest)."""

from __future__ import annotations

import os
import sys


def main() -> int:
    url = os.environ.get("TONGBAN_TEST_POSTGRES_URL", "")
    required = os.environ.get("TONGBAN_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            print(
                "TONGBAN_REQUIRE_POSTGRES=1 but TONGBAN_TEST_POSTGRES_URL is not set",
                file=sys.stderr,
            )
            return 1
        return 0
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    try:
        with psycopg.connect(
            host=config["HOST"] or "127.0.0.1",
            port=config["PORT"] or 5432,
            user=config["USER"],
            password=config["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ):
            pass
    except psycopg.Error as error:
        print(f"PostgreSQL at {url} is not reachable: {error}", file=sys.stderr)
        return 1 if required else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
