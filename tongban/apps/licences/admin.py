"""Licence types are edited in the admin; licences and keys are shown, never edited there
(a licence changes only through its services, which sign what they write)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tongban.apps.licences.models import IssuerKey, Licence, LicenceType


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "default_validity_years", "issuing_department", "is_active"]
    search_fields = ["code", "name"]
    list_filter = ["is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["code"] if obj is not None else []


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "holder_name", "issuer_name", "issued_on", "status"]
    search_fields = ["identifier", "number", "holder_name"]
    list_filter = ["status", "licence_type"]
    exclude = ["holder_id_number", "canonical", "signature", "revocation_signature"]


@admin.register(IssuerKey)
class IssuerKeyAdmin(ReadOnlyAdmin):
    list_display = ["department", "fingerprint", "is_active", "created_at"]
    exclude = ["private_key_encrypted"]
