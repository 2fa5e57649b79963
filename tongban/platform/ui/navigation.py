"""Links the applications add to the main navigation (the platform knows none by name)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavLink:
    key: str  # matched against the page's ``nav_active``
    label: str | Promise
    url_name: str
    order: int = 100
    public: bool = True  # shown to visitors who are not signed in
    staff_only: bool = False  # shown to staff only (citizens and enterprises never use it)


_LINKS: dict[str, NavLink] = {}


def register_nav_link(link: NavLink) -> NavLink:
    _LINKS[link.key] = link
    return link


def nav_links(*, signed_in: bool, staff: bool = False) -> list[tuple[NavLink, str]]:
    links = []
    for link in sorted(_LINKS.values(), key=lambda entry: (entry.order, entry.key)):
        if not (link.public or signed_in):
            continue
        if link.staff_only and not staff:
            continue
        try:
            links.append((link, reverse(link.url_name)))
        except NoReverseMatch:
            continue
    return links


@dataclass(frozen=True)
class PersonalLink:
    """A link the applications add to the citizen's personal space (个人空间); ``detail``
    says something about it for the signed-in user (e.g. a count)."""

    key: str
    label: str | Promise
    url_name: str
    detail: Callable[[Any], str] | None = None
    order: int = 100


_PERSONAL_LINKS: dict[str, PersonalLink] = {}


def register_personal_link(link: PersonalLink) -> PersonalLink:
    _PERSONAL_LINKS[link.key] = link
    return link


def personal_links(user: Any) -> list[tuple[PersonalLink, str, str]]:
    """(link, url, detail for ``user``) in order."""
    links = []
    for link in sorted(_PERSONAL_LINKS.values(), key=lambda entry: (entry.order, entry.key)):
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:
            continue
        links.append((link, url, link.detail(user) if link.detail else ""))
    return links
