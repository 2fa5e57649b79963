"""Per-process caches of the synonym groups and of the pinyin vocabulary.

Each is rebuilt when a cheap version check (max updated_at / id and count) changes; the
check runs at most every ``RECHECK_SECONDS`` per process, so another process's changes are
seen within a minute. Writes in this process call :func:`invalidate` and are seen at once.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Sum
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from tongban.platform.search import text
from tongban.platform.search.models import SearchDocument, SearchTerm, SynonymGroup

RECHECK_SECONDS = 60.0
PINYIN_ALTERNATIVES = 5


@dataclass(frozen=True)
class Synonyms:
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Vocabulary:
    by_pinyin: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_initials: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pinyins: tuple[str, ...] = ()
    terms: frozenset[str] = frozenset()  # every title/keyword term some document holds

    def exact(self, pinyin: str) -> tuple[str, ...]:
        return self.by_pinyin.get(pinyin, ())[:PINYIN_ALTERNATIVES]

    def initials(self, letters: str) -> tuple[str, ...]:
        return self.by_initials.get(letters, ())[:PINYIN_ALTERNATIVES]

    def fuzzy(self, pinyin: str) -> tuple[str, ...]:
        """Terms whose pinyin is within edit distance 1 (≤ 6 letters) or 2 (longer)."""
        limit = 1 if len(pinyin) <= 6 else 2
        found = process.extract(
            pinyin,
            self.pinyins,
            scorer=Levenshtein.distance,
            score_cutoff=limit,
            limit=PINYIN_ALTERNATIVES * 4,
        )
        found.sort(key=lambda row: row[1])  # stable: vocabulary order is by frequency
        terms: list[str] = []
        for candidate, _distance, _index in found:
            for term in self.by_pinyin[candidate]:
                if term not in terms:
                    terms.append(term)
        return tuple(terms[:PINYIN_ALTERNATIVES])


class _Cached:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = None
        self.stamp: Any = None
        self.checked = 0.0

    def get(self, stamp: Any, build: Any) -> Any:
        now = time.monotonic()
        with self.lock:
            if self.value is not None and now - self.checked < RECHECK_SECONDS:
                return self.value
            current = stamp()
            self.checked = now
            if self.value is None or current != self.stamp:
                self.value = build()
                self.stamp = current
            return self.value

    def clear(self) -> None:
        with self.lock:
            self.value, self.stamp, self.checked = None, None, 0.0


_synonyms = _Cached()
_vocabulary = _Cached()


def _synonym_stamp() -> tuple[Any, ...]:
    row = SynonymGroup.objects.aggregate(changed=Max("updated_at"), count=Count("pk"))
    return (row["changed"], row["count"])


def _build_synonyms() -> Synonyms:
    groups: dict[str, set[str]] = defaultdict(set)
    for terms in SynonymGroup.objects.filter(active=True).values_list("terms", flat=True):
        words = {text.normalize(str(term)).strip() for term in terms}
        words.discard("")
        for word in words:
            groups[word] |= words
    text.set_extra_words(groups)
    return Synonyms({word: tuple(sorted(members, key=len)) for word, members in groups.items()})


def synonyms() -> Synonyms:
    """Active synonym groups by term; also keeps jieba's extra words in step."""
    text.tokenizer()
    result: Synonyms = _synonyms.get(_synonym_stamp, _build_synonyms)
    return result


def _vocabulary_stamp() -> tuple[Any, ...]:
    row = SearchTerm.objects.aggregate(
        last=Max("pk"), count=Count("pk"), frequencies=Sum("document_frequency")
    )
    return (row["last"], row["count"], row["frequencies"])


def _build_vocabulary() -> Vocabulary:
    by_pinyin: dict[str, list[str]] = defaultdict(list)
    by_initials: dict[str, list[str]] = defaultdict(list)
    rows = SearchTerm.objects.filter(document_frequency__gt=0).order_by(
        "-document_frequency", "term"
    )
    for term, pinyin, initials in rows.values_list("term", "pinyin", "initials").iterator(
        chunk_size=5000
    ):
        by_pinyin[pinyin].append(term)
        by_initials[initials].append(term)
    return Vocabulary(
        by_pinyin={key: tuple(value) for key, value in by_pinyin.items()},
        by_initials={key: tuple(value) for key, value in by_initials.items()},
        pinyins=tuple(by_pinyin),
        terms=frozenset(term for terms in by_pinyin.values() for term in terms),
    )


def vocabulary() -> Vocabulary:
    result: Vocabulary = _vocabulary.get(_vocabulary_stamp, _build_vocabulary)
    return result


_namespaces = _Cached()


def _namespaces_stamp() -> float:
    return time.monotonic()  # always rebuilt after RECHECK_SECONDS


def _build_namespaces() -> frozenset[str]:
    return frozenset(SearchDocument.objects.values_list("namespace", flat=True).distinct())


def namespaces() -> frozenset[str]:
    """The namespaces that have documents (a single one lets queries skip narrowing)."""
    result: frozenset[str] = _namespaces.get(_namespaces_stamp, _build_namespaces)
    return result


def invalidate(*, synonyms: bool = True, terms: bool = True) -> None:
    if synonyms:
        _synonyms.clear()
    if terms:
        _vocabulary.clear()
        _namespaces.clear()
