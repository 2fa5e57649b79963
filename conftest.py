"""Shared fixtures for every test (top-level so app test folders see them too)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TONGBAN_ENV", "test")


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    # Argon2 is the production hasher; its own test checks it. MD5 keeps the suite fast.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    settings.MEDIA_ROOT = tmp_path / "media"
    # a private in-process cache, empty for every test
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{os.getpid()}",
        }
    }
    from django.core.cache import cache
    from django.utils import translation

    cache.clear()
    # every test starts in the default language, whatever an earlier one activated
    translation.activate(settings.LANGUAGE_CODE)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "events", "notify"],
        }
    }
