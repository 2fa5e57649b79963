"""Synonym groups in the Django admin: edits go through the audited services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.platform.audit.admin_base import PlatformModelAdmin
from tongban.platform.search import services
from tongban.platform.search.models import SynonymGroup
from tongban.platform.search.permissions import SYNONYM_MANAGE


class SynonymGroupForm(forms.ModelForm):  # type: ignore[type-arg]
    terms_text = forms.CharField(
        label=_("同义词"),
        help_text=_("每行一个词，或用逗号、顿号分隔；至少两个。"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = SynonymGroup
        fields = ("note", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["terms_text"].initial = "\n".join(self.instance.terms)

    def clean_terms_text(self) -> list[str]:
        raw = self.cleaned_data["terms_text"]
        parts = [part for part in _split(raw) if part]
        try:
            return services.synonym_terms_clean(parts)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from error


def _split(raw: str) -> list[str]:
    for separator in (",", "，", "、", ";", "；", "\r"):
        raw = raw.replace(separator, "\n")
    return [part.strip() for part in raw.split("\n")]


@admin.register(SynonymGroup)
class SynonymGroupAdmin(PlatformModelAdmin):
    form = SynonymGroupForm
    manage_permission = SYNONYM_MANAGE
    view_permission = SYNONYM_MANAGE
    list_display = ("__str__", "note", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("note",)
    fields = ("terms_text", "note", "active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = request.user  # the services write the audit entries
        terms = form.cleaned_data["terms_text"]
        if change:
            services.synonym_group_update(
                actor=actor,  # type: ignore[arg-type]
                group_id=obj.pk,
                terms=terms,
                note=obj.note,
                active=obj.active,
            )
            obj.refresh_from_db()
        else:
            created = services.synonym_group_create(
                actor=actor,  # type: ignore[arg-type]
                terms=terms,
                note=obj.note,
                active=obj.active,
            )
            obj.pk = created.pk
            obj.terms = created.terms

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.synonym_group_delete(actor=request.user, group_id=obj.pk)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            services.synonym_group_delete(actor=request.user, group_id=pk)  # type: ignore[arg-type]
