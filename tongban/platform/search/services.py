"""Writes: index maintenance (not audited: it mirrors the applications' own state) and
the administrators' synonym groups (validated and audited)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from tongban.platform.audit.services import audit_record
from tongban.platform.search import text, vocabulary
from tongban.platform.search.facets import facet_tokens
from tongban.platform.search.models import SearchDocument, SearchTerm, SynonymGroup

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

BATCH_SIZE = 2000
LOOKUP_BATCH = 500  # keys or terms per IN (...) (SQLite's variable limit)
MAX_TERM_LENGTH = 40
MAX_GROUP_TERMS = 30
MAX_NOTE_LENGTH = 200
FILTER_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SYNONYM_TERM = re.compile(r"^[^\W_]+$")


@dataclass(frozen=True)
class DocumentInput:
    """One object to index: ``title`` is shown; the three texts are segmented and weighted
    A (title), B (keywords), C (body)."""

    key: str
    title: str
    title_text: str = ""
    keywords_text: str = ""
    body_text: str = ""
    filters: Mapping[str, str] | None = field(default=None)
    boost: float = 1.0


# --- index maintenance ------------------------------------------------------------------


def _clean_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name, value in (filters or {}).items():
        if not FILTER_KEY.match(name):
            raise ValueError(f"search: invalid filter name {name!r}")
        cleaned[name] = str(value)
    return cleaned


def _vocabulary_terms(tokens_title: str, tokens_keywords: str) -> set[str]:
    """Terms that enter the pinyin vocabulary: Chinese words of 2+ characters from the
    title and keywords."""
    return {
        token
        for token in f"{tokens_title} {tokens_keywords}".split()
        if 2 <= len(token) <= MAX_TERM_LENGTH and text.is_chinese(token)
    }


def _build(namespace: str, document: DocumentInput) -> SearchDocument:
    if not namespace or len(namespace) > 50:
        raise ValueError("search: namespace must be 1–50 characters")
    key = str(document.key)
    if not key or len(key) > 100:
        raise ValueError("search: key must be 1–100 characters")
    filters = _clean_filters(document.filters)
    return SearchDocument(
        namespace=namespace,
        key=key,
        title=document.title[:500],
        tokens_title=text.index_string(document.title_text or document.title),
        tokens_keywords=text.index_string(document.keywords_text),
        tokens_body=text.index_string(document.body_text),
        tokens_facets=" ".join(facet_tokens(namespace, filters)),
        filters=filters,
        boost=float(document.boost),
    )


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _apply_term_counts(delta: Counter[str]) -> None:
    """Add ``delta`` to the document frequencies (creating new terms with their pinyin)."""
    changes = {term: count for term, count in delta.items() if count}
    if not changes:
        return
    existing: dict[str, int] = {}
    for batch in _batches(changes, LOOKUP_BATCH):
        existing.update(
            SearchTerm.objects.filter(term__in=batch).values_list("term", "document_frequency")
        )
    created = []
    for term, count in changes.items():
        if term not in existing and count > 0:
            pinyin, initials = text.pinyin_of(term)
            created.append(
                SearchTerm(
                    term=term,
                    pinyin=pinyin[:200],
                    initials=initials[:40],
                    document_frequency=count,
                )
            )
    SearchTerm.objects.bulk_create(created, batch_size=BATCH_SIZE, ignore_conflicts=True)
    by_count: dict[int, list[str]] = {}
    for term in existing:
        by_count.setdefault(changes[term], []).append(term)
    if len(by_count) <= 20:
        # few distinct changes (single documents): race-free relative updates
        for count, terms in by_count.items():
            for batch in _batches(terms, LOOKUP_BATCH):
                SearchTerm.objects.filter(term__in=batch).update(
                    document_frequency=Greatest(F("document_frequency") + count, Value(0))
                )
        return
    # bulk (re)indexing: absolute values, written in batches
    rows = []
    for batch in _batches(existing, LOOKUP_BATCH):
        for row in SearchTerm.objects.filter(term__in=batch).only("pk", "term"):
            row.document_frequency = max(existing[row.term] + changes[row.term], 0)
            rows.append(row)
    SearchTerm.objects.bulk_update(rows, ["document_frequency"], batch_size=LOOKUP_BATCH)


def _count_stored_terms(rows: Iterable[tuple[str, str]], counts: Counter[str], sign: int) -> None:
    for tokens_title, tokens_keywords in rows:
        for term in _vocabulary_terms(tokens_title, tokens_keywords):
            counts[term] += sign


def _after_index_change() -> None:
    transaction.on_commit(lambda: vocabulary.invalidate(synonyms=False))


def _write(namespace: str, documents: Iterable[DocumentInput], *, replace: bool) -> int:
    vocabulary.synonyms()  # jieba knows the current synonym terms before segmenting
    counts: Counter[str] = Counter()
    written = 0
    with transaction.atomic():
        if replace:
            current = SearchDocument.objects.filter(namespace=namespace)
            _count_stored_terms(
                current.values_list("tokens_title", "tokens_keywords").iterator(chunk_size=5000),
                counts,
                -1,
            )
            current.delete()
        for batch in _batches(documents, BATCH_SIZE):
            built = {row.key: row for row in (_build(namespace, document) for document in batch)}
            if not replace:
                for keys in _batches(built, LOOKUP_BATCH):
                    old = SearchDocument.objects.filter(namespace=namespace, key__in=keys)
                    _count_stored_terms(
                        old.values_list("tokens_title", "tokens_keywords"), counts, -1
                    )
                    old.delete()
            for row in built.values():
                for term in _vocabulary_terms(row.tokens_title, row.tokens_keywords):
                    counts[term] += 1
            SearchDocument.objects.bulk_create(built.values(), batch_size=BATCH_SIZE)
            written += len(built)
        _apply_term_counts(counts)
        _after_index_change()
    if written >= BATCH_SIZE:
        _flush_pending_index_entries()
    return written


def _flush_pending_index_entries() -> None:
    """After a bulk load on PostgreSQL, move the GIN indexes' pending entries into the
    main structure now (autovacuum would, later): queries scan the pending list linearly."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for index in ("search_document_head", "search_document_vector"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def search_document_upsert(
    *,
    namespace: str,
    key: str,
    title: str,
    title_text: str,
    keywords_text: str = "",
    body_text: str = "",
    filters: Mapping[str, str] | None = None,
    boost: float = 1.0,
) -> None:
    """Index one object (replacing its earlier document)."""
    document = DocumentInput(
        key=key,
        title=title,
        title_text=title_text,
        keywords_text=keywords_text,
        body_text=body_text,
        filters=filters,
        boost=boost,
    )
    _write(namespace, [document], replace=False)


def search_documents_bulk_upsert(*, namespace: str, documents: Iterable[DocumentInput]) -> int:
    """Index a batch of objects, replacing their earlier documents; others stay."""
    return _write(namespace, documents, replace=False)


def search_documents_bulk_replace(*, namespace: str, documents: Iterable[DocumentInput]) -> int:
    """Replace the whole namespace with ``documents`` (in one transaction)."""
    return _write(namespace, documents, replace=True)


def search_document_delete(*, namespace: str, key: str) -> bool:
    """Remove one object from the index; False when it was not indexed."""
    with transaction.atomic():
        rows = SearchDocument.objects.filter(namespace=namespace, key=str(key))
        counts: Counter[str] = Counter()
        _count_stored_terms(rows.values_list("tokens_title", "tokens_keywords"), counts, -1)
        deleted, _details = rows.delete()
        _apply_term_counts(counts)
        _after_index_change()
    return deleted > 0


# --- synonym groups -------------------------------------------------------------------


def synonym_terms_clean(terms: Any) -> list[str]:
    """The terms of a group, stripped and without repeats; ValidationError in Chinese."""
    if isinstance(terms, str) or not isinstance(terms, Sequence):
        raise ValidationError(_("同义词应为词语列表。"), code="invalid")
    cleaned: list[str] = []
    seen: set[str] = set()
    errors: list[ValidationError] = []
    for raw in terms:
        if not isinstance(raw, str):
            errors.append(ValidationError(_("同义词必须是文字。"), code="invalid"))
            continue
        term = raw.strip()
        if not 1 <= len(term) <= MAX_TERM_LENGTH:
            errors.append(
                ValidationError(
                    _("同义词“%(term)s”的长度应为1到40个字符。") % {"term": term[:50]},
                    code="length",
                )
            )
            continue
        if not SYNONYM_TERM.match(term):
            errors.append(
                ValidationError(
                    _("同义词“%(term)s”只能包含汉字、字母和数字，不能有空格或标点。")
                    % {"term": term},
                    code="characters",
                )
            )
            continue
        folded = text.normalize(term)
        if folded not in seen:
            seen.add(folded)
            cleaned.append(term)
    if errors:
        raise ValidationError(errors)
    if len(cleaned) < 2:
        raise ValidationError(_("同义词组至少需要两个不同的词。"), code="too_few")
    if len(cleaned) > MAX_GROUP_TERMS:
        raise ValidationError(
            _("一个同义词组最多包含%(count)d个词。") % {"count": MAX_GROUP_TERMS},
            code="too_many",
        )
    return cleaned


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(
            _("备注不能超过%(count)d个字符。") % {"count": MAX_NOTE_LENGTH}, code="length"
        )
    return note


def _synonyms_changed() -> None:
    vocabulary.invalidate(terms=False)
    transaction.on_commit(lambda: vocabulary.invalidate(terms=False))


def _group_for_update(group_id: int) -> SynonymGroup:
    group = SynonymGroup.objects.select_for_update().filter(pk=group_id).first()
    if group is None:
        raise ValidationError(_("同义词组不存在或已被删除。"), code="not_found")
    return group


def synonym_group_create(
    *, actor: User | None, terms: Sequence[str], note: str = "", active: bool = True
) -> SynonymGroup:
    cleaned = synonym_terms_clean(terms)
    note = _clean_note(note)
    with transaction.atomic():
        group = SynonymGroup.objects.create(terms=cleaned, note=note, active=bool(active))
        audit_record(
            action="search.synonym_group.create",
            actor=actor,
            target=group,
            detail={"terms": cleaned, "active": group.active},
        )
        _synonyms_changed()
    return group


def synonym_group_update(
    *,
    actor: User | None,
    group_id: int,
    terms: Sequence[str] | None = None,
    note: str | None = None,
    active: bool | None = None,
) -> SynonymGroup:
    cleaned = synonym_terms_clean(terms) if terms is not None else None
    cleaned_note = _clean_note(note) if note is not None else None
    with transaction.atomic():
        group = _group_for_update(group_id)
        before = {"terms": list(group.terms), "note": group.note, "active": group.active}
        if cleaned is not None:
            group.terms = cleaned
        if cleaned_note is not None:
            group.note = cleaned_note
        if active is not None:
            group.active = bool(active)
        group.save()
        after = {"terms": list(group.terms), "note": group.note, "active": group.active}
        audit_record(
            action="search.synonym_group.update",
            actor=actor,
            target=group,
            detail={
                "before": {k: v for k, v in before.items() if after[k] != v},
                "after": {k: v for k, v in after.items() if before[k] != v},
            },
        )
        _synonyms_changed()
    return group


def synonym_group_delete(*, actor: User | None, group_id: int) -> None:
    with transaction.atomic():
        group = _group_for_update(group_id)
        audit_record(
            action="search.synonym_group.delete",
            actor=actor,
            target=group,
            detail={"terms": list(group.terms)},
        )
        group.delete()
        _synonyms_changed()
