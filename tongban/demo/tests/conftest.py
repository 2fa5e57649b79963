"""The demo city loaded once per test module (it takes seconds), rolled back afterwards,
with its files written under a temporary media root."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import override_settings

from tongban.demo.loader import Summary, load_demo_city


def wrapping_transaction() -> transaction.Atomic:
    """An ``atomic`` block that wraps tests (like a test case's): the audit entries of what
    runs inside are written when each service's own block ends, not at its rollback."""
    block = transaction.atomic()
    block._from_testcase = True
    return block


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Summary]:
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), wrapping_transaction():
        summary = load_demo_city()
        yield summary
        transaction.set_rollback(True)
