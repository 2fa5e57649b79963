"""Links the applications add to the main navigation (the platform knows none by name)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavLink:
    key: str  # matched against the page's ``nav_active``
    label: str | Promise
    url_name: str
    order: int = 100
    public: bool = True  # shown to visitors who are not signed in


_LINKS: dict[str, NavLink] = {}


def register_nav_link(link: NavLink) -> NavLink:
    _LINKS[link.key] = link
    return link


def nav_links(*, signed_in: bool) -> list[tuple[NavLink, str]]:
    links = []
    for link in sorted(_LINKS.values(), key=lambda entry: (entry.order, entry.key)):
        if not (link.public or signed_in):
            continue
        try:
            links.append((link, reverse(link.url_name)))
        except NoReverseMatch:
            continue
    return links
