"""The shared-data gateway department systems call (a Ninja API of its own, /gateway/).

The gateway authenticates machines itself (bearer tokens or SM2-signed requests, see
``gateway_auth``) and logs every call, refused ones included; for the platform's
deny-by-default middleware its views are therefore ``public`` (no session needed)."""

from typing import Any

from django.urls import URLPattern, URLResolver, include, path

from tongban.apps.sharing.gateway_api import api
from tongban.platform.access.decorators import public


def _declared(patterns: list[Any]) -> list[Any]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _declared(pattern.url_patterns)
        else:
            public(pattern.callback)
    return patterns


_patterns, _app_name, _namespace = api.urls
urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((_declared(list(_patterns)), _app_name), namespace=_namespace))
]
