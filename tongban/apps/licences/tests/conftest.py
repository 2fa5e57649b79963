"""Fixtures for the licence tests."""

from __future__ import annotations

import pytest

from tongban.apps.licences.tests.builders import City, small_city


@pytest.fixture
def city(db) -> City:
    """Two departments, their staff (all permissions / view only / other department), two
    citizens."""
    return small_city()
