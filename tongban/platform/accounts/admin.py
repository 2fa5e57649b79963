"""Identity in the admin.

- Users: managed by holders of ``accounts.user.manage`` (the system administrator), saved
  through the services (audited); the mobile number appears masked only, the password and
  the administrator role are never edited here (``password_change`` by the owner,
  ``tongban createadmin`` for the three administrators).
- Natural persons, legal persons, agent authorisations and tokens: read-only; ID numbers
  appear masked, nothing is decrypted.
- The auditor (安全审计员) changes nothing anywhere.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.platform.access.permissions import (
    LEGAL_PERSON_VIEW,
    PERSON_VIEW,
    USERS_MANAGE,
    USERS_VIEW,
)
from tongban.platform.accounts import services
from tongban.platform.accounts.models import (
    AccessToken,
    AdminRole,
    AgentAuthorisation,
    LegalPerson,
    NaturalPerson,
    User,
    UserKind,
)
from tongban.platform.audit.admin_base import PlatformModelAdmin


def is_auditor(request: HttpRequest) -> bool:
    return getattr(request.user, "admin_role", "") == AdminRole.AUDITOR


class IdentityAdmin(PlatformModelAdmin):
    """Base for this module: the auditor is read-only whatever else they hold."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not is_auditor(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_auditor(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_auditor(request) and super().has_delete_permission(request, obj)


class ReadOnlyAdmin(IdentityAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StaffCreationForm(forms.ModelForm):  # type: ignore[type-arg]
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("密码至少8位，且包含大写字母、小写字母、数字、符号中的至少3种。"),
    )
    mobile_number = forms.RegexField(
        label=_("手机号码"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("请输入11位手机号码")},
    )

    class Meta:
        model = User
        fields = ("username", "display_name", "email")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "password" in data:
            probe = User(
                username=data.get("username", ""),
                display_name=data.get("display_name", ""),
                kind=UserKind.STAFF,
            )
            try:
                validate_password(data["password"], probe)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class UserChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    mobile_number = forms.RegexField(
        label=_("新手机号码"),
        regex=r"^1\d{10}$",
        required=False,
        help_text=_("留空则不修改"),
        error_messages={"invalid": _("请输入11位手机号码")},
    )

    class Meta:
        model = User
        fields = ("display_name", "email", "is_active", "is_staff")


@admin.register(User)
class UserAdmin(IdentityAdmin):
    view_permission = USERS_VIEW
    manage_permission = USERS_MANAGE
    list_display = (
        "username",
        "display_name",
        "kind",
        "admin_role",
        "mobile_masked",
        "is_active",
        "mfa_enabled",
        "last_login",
    )
    list_filter = ("kind", "admin_role", "is_active", "mfa_enabled")
    search_fields = ("username", "display_name")
    ordering = ("username",)
    audit_fields = (
        "kind",
        "admin_role",
        "person",
        "mobile_masked",
        "mfa_enabled",
        "password_changed_at",
        "last_login",
        "date_joined",
    )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = StaffCreationForm if obj is None else UserChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("username", "display_name", "email", "mobile_number", "password")
        editable: tuple[str, ...] = ("display_name", "email", "is_active", "is_staff")
        if self.has_change_permission(request, obj):
            editable = (*editable, "mobile_number")
        return ("username", *editable, *self.audit_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("username", *self.audit_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # logins are deactivated, never deleted: the audit log refers to them

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor: Any = request.user
        data = form.cleaned_data
        if not change:
            created = services.staff_create(
                actor=actor,
                username=data["username"],
                display_name=data["display_name"],
                password=data["password"],
                email=data.get("email", ""),
                mobile=data.get("mobile_number") or "",
            )
            obj.pk = created.pk
            return
        changes = {
            field: data[field]
            for field in ("display_name", "email", "is_active", "is_staff")
            if field in form.changed_data
        }
        if data.get("mobile_number"):
            changes["mobile"] = data["mobile_number"]
        # ``obj`` already carries the form's values; the service compares with the database.
        stored = User.objects.get(pk=obj.pk)
        services.user_update(actor=actor, user=stored, changes=changes)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related is edited here (roles go through the role-assignment admin)."""


@admin.register(NaturalPerson)
class NaturalPersonAdmin(ReadOnlyAdmin):
    view_permission = PERSON_VIEW
    list_display = ("name", "id_number_masked", "gender", "birth_date", "mobile_masked")
    search_fields = ("name",)
    fields = (
        "name",
        "id_number_masked",
        "gender",
        "birth_date",
        "mobile_masked",
        "verified_at",
        "created_at",
    )
    readonly_fields = fields


@admin.register(LegalPerson)
class LegalPersonAdmin(ReadOnlyAdmin):
    view_permission = LEGAL_PERSON_VIEW
    list_display = ("name", "uscc", "kind", "legal_representative")
    list_filter = ("kind",)
    search_fields = ("name", "uscc")
    fields = ("name", "uscc", "kind", "legal_representative", "address", "registered_on")
    readonly_fields = fields


@admin.register(AgentAuthorisation)
class AgentAuthorisationAdmin(ReadOnlyAdmin):
    view_permission = LEGAL_PERSON_VIEW
    list_display = ("agent", "legal_person", "valid_from", "valid_until", "revoked_at")
    fields = ("agent", "legal_person", "granted_by", "valid_from", "valid_until", "revoked_at")
    readonly_fields = fields


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    view_permission = USERS_VIEW
    list_display = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at")
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
