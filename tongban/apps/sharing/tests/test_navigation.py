"""The main navigation shows staff applications to staff only: a citizen's pages carried
links to 电子监察 and 数据共享 they could only be refused at (bug fixed with a test)."""

from __future__ import annotations

import re

from django.urls import reverse

from tests import factories
from tongban.apps.sharing import permissions


def _navigation(page: str) -> str:
    found = re.search(r'<nav class="main-nav".*?</nav>', page, re.DOTALL)
    assert found is not None
    return found.group(0)


def test_a_citizen_sees_no_staff_applications_in_the_navigation(client, db):
    client.force_login(factories.citizen())
    navigation = _navigation(client.get(reverse("ui:personal")).content.decode())
    assert reverse("sharing:catalogue") not in navigation
    assert reverse("supervision:home") not in navigation
    assert reverse("catalog:home") in navigation  # public applications stay


def test_staff_see_the_sharing_link(client, db):
    division = factories.division()
    unit = factories.unit(factories.department(division, "GAJ", "示范市公安局"), "GAJ-1", "科")
    officer = factories.staff(
        "gaj", unit, role_obj=factories.role("viewer", [permissions.CATALOGUE_VIEW, "ui.workbench"])
    )
    client.force_login(officer)
    navigation = _navigation(client.get(reverse("ui:workbench")).content.decode())
    assert reverse("sharing:catalogue") in navigation
    assert reverse("supervision:home") in navigation
