"""Settings come only from the environment; production refuses unsafe values."""

from __future__ import annotations

import os
import subprocess
import sys


def _import_settings(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TONGBAN_") and key != "DATABASE_URL"
    }
    env.update(environment)
    return subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import tongban.settings as s; print(s.DATABASES['default']['ENGINE'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_empty_database_url_means_the_embedded_default():
    result = _import_settings(DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


def test_production_refuses_debug_and_default_secrets():
    result = _import_settings(TONGBAN_ENV="production", TONGBAN_DEBUG="true")
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr
    assert "TONGBAN_DEBUG must be off" in result.stderr
    assert "TONGBAN_SECRET_KEY" in result.stderr


def test_production_starts_with_proper_settings():
    result = _import_settings(
        TONGBAN_ENV="production",
        TONGBAN_SECRET_KEY="x" * 50,
        TONGBAN_PII_KEY="0f" * 16,
        TONGBAN_PII_HMAC_KEY="another-secret-value",
        TONGBAN_ALLOWED_HOSTS="zwfw.example.gov.cn",
        DATABASE_URL="postgres://u:p@db.internal:5432/tongban",
    )
    assert result.returncode == 0, result.stderr
    # Django's backend with the audit chain written at commit (docs/decisions/0014)
    assert result.stdout.strip() == "tongban.platform.db.postgresql"


def test_a_malformed_boolean_is_refused():
    result = _import_settings(TONGBAN_DEBUG="perhaps")
    assert result.returncode != 0
    assert "TONGBAN_DEBUG must be a boolean" in result.stderr


def test_production_refuses_a_key_ring_that_still_holds_the_development_key():
    from tongban.settings import DEFAULT_PII_KEY

    result = _import_settings(
        TONGBAN_ENV="production",
        TONGBAN_SECRET_KEY="x" * 50,
        TONGBAN_PII_KEY=f"2:{'0f' * 16},1:{DEFAULT_PII_KEY}",
        TONGBAN_PII_HMAC_KEY="another-secret-value",
        TONGBAN_ALLOWED_HOSTS="zwfw.example.gov.cn",
        DATABASE_URL="postgres://u:p@db.internal:5432/tongban",
    )
    assert result.returncode != 0
    assert "may not contain the development key" in result.stderr
