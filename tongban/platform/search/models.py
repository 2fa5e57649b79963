"""The search index (one row per indexed object), synonyms and the pinyin vocabulary.

The vendor-specific parts live in migrations 0002/0003: on PostgreSQL two generated
``tsvector`` columns with GIN indexes (``head_vector``: title A, keywords B, facets D;
``search_vector``: all fields and facets), on SQLite an FTS5 table
``search_searchdocument_fts`` (title, keywords, body, facets) kept in step by
triggers. Django does not know about either; :mod:`.selectors` queries them with
parameterised SQL.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    namespace = models.CharField(max_length=50)
    key = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    tokens_title = models.TextField(blank=True, default="")
    tokens_keywords = models.TextField(blank=True, default="")
    tokens_body = models.TextField(blank=True, default="")
    # namespace and filter values as opaque tokens, so the full-text index itself narrows
    # by them (see facets.py)
    tokens_facets = models.TextField(blank=True, default="")
    filters = models.JSONField(default=dict, blank=True)
    boost = models.FloatField(default=1.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["namespace", "key"], name="search_document_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.namespace}:{self.key} {self.title}"


class SynonymGroup(models.Model):
    terms = models.JSONField(_("同义词"), default=list)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("搜索同义词组")
        verbose_name_plural = _("搜索同义词组")

    def __str__(self) -> str:
        return " / ".join(str(term) for term in self.terms)


class SearchTerm(models.Model):
    term = models.CharField(max_length=40, unique=True)
    pinyin = models.CharField(max_length=200, db_index=True)
    initials = models.CharField(max_length=40, db_index=True)
    document_frequency = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.term} ({self.pinyin})"
