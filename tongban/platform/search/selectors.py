"""Reads: understand a query (words, pinyin, synonyms), run one native full-text query,
re-rank the best candidates by how many concepts they cover, and explain each hit."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from tongban.platform.search import text, vocabulary
from tongban.platform.search.facets import facet_tokens

# how many of the natively best-ranked rows are re-ranked by concept coverage
CANDIDATES = 200
# the deepest row a caller can page to
MAX_WINDOW = 1000
# the most matches one ranking step reads: beyond, a very common word's documents are
# ranked among the first RANK_POOL found (documents with every concept are ranked first)
RANK_POOL = 500
# a body-only match scores this share of the lowest title/keyword match's native rank
BODY_ONLY_SHARE = 0.5
MAX_LIMIT = 100
MAX_CONCEPTS = 10
MAX_ALTERNATIVES = 12
FIELDS = ("title", "keywords", "body")
FILTER_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# PostgreSQL ts_rank weights {D, C, B, A}: body C, keywords B, title A
PG_WEIGHTS = "{0.1, 0.1, 0.4, 1.0}"
# SQLite bm25 weights per FTS5 column: title, keywords, body
SQLITE_WEIGHTS = (10.0, 4.0, 1.0)


@dataclass(frozen=True)
class Concept:
    """One thing the user asked for, with the index terms that stand for it.

    ``via`` is ``word`` (as typed), ``synonym`` (expanded by a synonym group), ``pinyin``,
    ``initials`` or ``pinyin_fuzzy`` (a Latin run resolved through the vocabulary)."""

    original: str
    alternatives: tuple[str, ...]
    via: str


@dataclass(frozen=True)
class Match:
    concept: str
    term: str
    field: str  # "title" | "keywords" | "body"
    via: str


@dataclass(frozen=True)
class SearchHit:
    key: str
    title: str
    score: float
    filters: dict[str, str]
    matches: list[Match]


@dataclass(frozen=True)
class SearchResult:
    """``total`` counts matching documents up to the candidate window (200, or
    offset + limit when deeper); ``total_capped`` says there are more (show "200+")."""

    hits: list[SearchHit]
    total: int
    concepts: list[Concept]
    total_capped: bool = False


@dataclass(frozen=True)
class _Understood:
    concept: Concept
    vias: dict[str, str] = field(default_factory=dict)  # alternative -> how it was reached
    # the dictionary words inside a long word, also searched for (公积金提取 → 公积金, 提取);
    # a document with only some of them covers that share of the concept
    parts: tuple[str, ...] = ()


def _resolve_latin(word: str) -> tuple[tuple[str, ...], str]:
    if len(word) < 2:
        return (), "word"
    words = vocabulary.vocabulary()
    found = words.exact(word)
    if found:
        return found, "pinyin"
    found = words.initials(word)
    if found:
        return found, "initials"
    if len(word) >= 3:
        found = words.fuzzy(word)
        if found:
            return found, "pinyin_fuzzy"
    return (), "word"


def understand(query: str) -> list[_Understood]:
    """The concepts of a query, each with its alternatives (at most 10 concepts)."""
    groups = vocabulary.synonyms().groups  # first: it also teaches jieba the synonym terms
    words = text.words_for_query(query.strip()[: text.MAX_QUERY_CHARS])
    has_long_word = any(len(word) >= 2 for word in words)
    understood: list[_Understood] = []
    for word in words:
        if len(understood) >= MAX_CONCEPTS:
            break
        if has_long_word and len(word) == 1 and word not in groups:
            continue  # a lone character next to real words is noise (开 in 开一家奶茶店)
        vias: dict[str, str] = {}
        via = "word"
        if text.is_latin(word):
            resolved, via = _resolve_latin(word)
            for term in resolved:
                vias[term] = via
        if not vias:
            vias[word] = "word"
        expanded = False
        for term in list(vias):
            for synonym in groups.get(term, ()):
                if synonym not in vias:
                    vias[synonym] = "synonym"
                    expanded = True
        if expanded and via == "word":
            via = "synonym"
        # a long word no title or keyword holds whole is also looked for by its parts
        parts: tuple[str, ...] = ()
        if via == "word" and word not in vocabulary.vocabulary().terms:
            parts = text.parts_of(word)
        whole = tuple(vias)[: MAX_ALTERNATIVES - len(parts)]
        parts = tuple(part for part in parts if part not in whole)
        alternatives = whole + parts
        understood.append(
            _Understood(
                Concept(original=word, alternatives=alternatives, via=via),
                {term: vias.get(term, "word") for term in alternatives},
                parts,
            )
        )
    return understood


def _normalize(term: str) -> str:
    return text.normalize(term)


def _lexemes(understood: list[_Understood]) -> list[list[str]]:
    """The index tokens of each concept's alternatives."""
    groups = []
    for item in understood:
        lexemes: dict[str, None] = {}
        for term in item.concept.alternatives:
            for token in text.normalize(term).split():
                lexemes.setdefault(token, None)
        if lexemes:
            groups.append(list(lexemes))
    return groups


def _clean_filters(filters: Mapping[str, str] | None) -> dict[str, str]:
    cleaned = {}
    for name, value in (filters or {}).items():
        if not FILTER_KEY.match(name):
            raise ValueError(f"search: invalid filter name {name!r}")
        cleaned[name] = str(value)
    return cleaned


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _sqlite_rows(
    namespace: str, groups: list[list[str]], facets: list[str], window: int
) -> list[tuple[Any, ...]]:
    # every token is an FTS5 string ("..." with inner quotes doubled): no query syntax
    def any_of(group: list[str]) -> str:
        return "(" + " OR ".join(_fts5_string(token) for token in group) + ")"

    terms = any_of([token for group in groups for token in group])
    every = " AND ".join(any_of(group) for group in groups)
    narrow = "".join(f" AND tokens_facets : {_fts5_string(token)}" for token in facets)
    title, keywords, body = SQLITE_WEIGHTS
    rank = f"-bm25(search_searchdocument_fts, {title}, {keywords}, {body}, 0.0)"
    # bm25() only works inside its own MATCH query, hence the materialised steps:
    # every: documents with all concepts anywhere; head: with any concept in title or
    # keywords (each ranked natively over at most RANK_POOL matches); body: the rest,
    # unranked. All are lookups in the FTS5 index.
    sql = f"""
        WITH every AS MATERIALIZED (
            SELECT rowid AS id, {rank} AS rank FROM search_searchdocument_fts
            WHERE search_searchdocument_fts MATCH %s LIMIT %s
        ),
        anyhead AS MATERIALIZED (
            SELECT rowid AS id, {rank} AS rank FROM search_searchdocument_fts
            WHERE search_searchdocument_fts MATCH %s LIMIT %s
        ),
        head AS MATERIALIZED (
            SELECT id, max(rank) AS rank
            FROM (SELECT id, rank FROM every UNION ALL SELECT id, rank FROM anyhead)
            GROUP BY id ORDER BY rank DESC LIMIT %s
        ),
        body AS MATERIALIZED (
            SELECT rowid AS id, 0.0 AS rank
            FROM search_searchdocument_fts
            WHERE search_searchdocument_fts MATCH %s
              AND rowid NOT IN (SELECT id FROM head)
            LIMIT max(%s - (SELECT count(*) FROM head), 0)
        )
        SELECT d.key, d.title, d.filters, d.tokens_title, d.tokens_keywords, d.tokens_body,
               d.boost, c.rank
        FROM (SELECT id, rank FROM head UNION ALL SELECT id, rank FROM body) c
        JOIN search_searchdocument d ON d.id = c.id
        WHERE d.namespace = %s"""  # noqa: S608 - constants only
    params: list[Any] = [
        f"{every}{narrow}",
        RANK_POOL if len(groups) > 1 else 0,
        f"{{tokens_title tokens_keywords}} : {terms}{narrow}",
        RANK_POOL,
        window,
        f"tokens_body : {terms}{narrow}",
        window,
        namespace,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _tsquery_lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _postgres_rows(
    namespace: str, groups: list[list[str]], facets: list[str], window: int
) -> list[tuple[Any, ...]]:
    # every lexeme quoted ('...' with quotes doubled, backslashes escaped)
    def any_of(group: list[str]) -> str:
        return "(" + " | ".join(_tsquery_lexeme(token) for token in group) + ")"

    terms = any_of([token for group in groups for token in group])
    narrow = "".join(" & " + _tsquery_lexeme(token) for token in facets)
    every = " & ".join(any_of(group) for group in groups) + narrow
    both = terms + narrow
    # as on SQLite; each ranking reads at most RANK_POOL matches
    sql = f"""
        WITH every AS MATERIALIZED (
            SELECT id, ts_rank('{PG_WEIGHTS}', search_vector, to_tsquery('simple', %s)) AS rank
            FROM (
                SELECT id, search_vector FROM search_searchdocument
                WHERE search_vector @@ to_tsquery('simple', %s) LIMIT %s
            ) AS pool
        ),
        anyhead AS MATERIALIZED (
            SELECT id, ts_rank('{PG_WEIGHTS}', head_vector, to_tsquery('simple', %s)) AS rank
            FROM (
                SELECT id, head_vector FROM search_searchdocument
                WHERE head_vector @@ to_tsquery('simple', %s) LIMIT %s
            ) AS pool
        ),
        head AS MATERIALIZED (
            SELECT id, max(rank) AS rank
            FROM (SELECT id, rank FROM every UNION ALL SELECT id, rank FROM anyhead) AS ranked
            GROUP BY id ORDER BY max(rank) DESC LIMIT %s
        ),
        body AS MATERIALIZED (
            SELECT id, 0.0::real AS rank
            FROM search_searchdocument
            WHERE search_vector @@ to_tsquery('simple', %s)
              AND id NOT IN (SELECT id FROM head)
            LIMIT greatest(%s - (SELECT count(*) FROM head), 0)
        )
        SELECT d.key, d.title, d.filters, d.tokens_title, d.tokens_keywords, d.tokens_body,
               d.boost, c.rank
        FROM (SELECT id, rank FROM head UNION ALL SELECT id, rank FROM body) c
        JOIN search_searchdocument d ON d.id = c.id
        WHERE d.namespace = %s"""  # noqa: S608 - constants only
    params: list[Any] = [
        terms,
        every,
        RANK_POOL if len(groups) > 1 else 0,
        terms,
        both,
        RANK_POOL,
        window,
        both,
        window,
        namespace,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _explain(
    understood: list[_Understood],
    normalized: list[list[tuple[str, str]]],
    tokens: tuple[str, str, str],
) -> tuple[float, list[Match]]:
    """How many concepts the document covers, and for each concept and field the first
    alternative found there (``normalized``: each concept's (term, index token) pairs).

    A concept found only through some of its parts counts for the share of parts found."""
    token_sets = [set(field_tokens.split()) for field_tokens in tokens]
    everywhere = set().union(*token_sets)
    covered = 0.0
    matches: list[Match] = []
    for item, pairs in zip(understood, normalized, strict=True):
        parts = set(item.parts)
        whole = [(term, token) for term, token in pairs if term not in parts]
        pieces = [(term, token) for term, token in pairs if term in parts]
        found = False
        for field_name, token_set in zip(FIELDS, token_sets, strict=True):
            for term, token in whole:
                if token in token_set:
                    matches.append(Match(item.concept.original, term, field_name, item.vias[term]))
                    found = True
                    break
        if found:
            covered += 1
            continue
        for term, token in pieces:
            if token not in everywhere:
                continue
            field_name = next(
                name
                for name, token_set in zip(FIELDS, token_sets, strict=True)
                if token in token_set
            )
            matches.append(Match(item.concept.original, term, field_name, item.vias[term]))
        if pieces:
            covered += sum(token in everywhere for _term, token in pieces) / len(pieces)
    return covered, matches


def search_query(
    *,
    namespace: str,
    text: str,
    limit: int = 20,
    offset: int = 0,
    filters: dict[str, str] | None = None,
) -> SearchResult:
    """Documents of ``namespace`` matching ``text`` (at most 100 characters are read),
    best first, with the concepts understood and why each hit matched.

    Title/keyword matches are ranked by the database (bm25 / ts_rank with field weights,
    times ``boost``); body-only matches follow; the best ``CANDIDATES`` are re-ranked by how
    many concepts they cover. ``total`` is exact below 200 (see SearchResult); paging
    reaches row 1,000.
    """
    cleaned_filters = _clean_filters(filters)
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    understood = understand(text)
    concepts = [item.concept for item in understood]
    lexemes = _lexemes(understood)
    if not lexemes:
        return SearchResult(hits=[], total=0, concepts=concepts)
    window = min(max(CANDIDATES, offset + limit), MAX_WINDOW)
    fetch = _postgres_rows if connection.vendor == "postgresql" else _sqlite_rows
    facets = facet_tokens(namespace, cleaned_filters)
    if vocabulary.namespaces() == {namespace}:
        facets = facets[1:]  # every document is in this namespace: no need to narrow
    # (another process's new namespace is seen within a minute; until then the final join
    # keeps other namespaces out of the hits)
    rows = fetch(namespace, lexemes, facets, window)
    if not rows:
        return SearchResult(hits=[], total=0, concepts=concepts)
    # body-only matches come unranked: they rank below every title/keyword match
    ranked_floor = min((float(row[7]) for row in rows if row[7]), default=1.0)
    wanted = len(understood)
    normalized = [
        [(term, _normalize(term)) for term in item.concept.alternatives] for item in understood
    ]
    ranked = []
    for (
        key,
        title,
        stored_filters,
        tokens_title,
        tokens_keywords,
        tokens_body,
        boost,
        rank,
    ) in rows:
        covered, matches = _explain(
            understood, normalized, (tokens_title, tokens_keywords, tokens_body)
        )
        native = (float(rank) or ranked_floor * BODY_ONLY_SHARE) * float(boost)
        # concept coverage dominates: a document with 1 of 2 concepts keeps a quarter
        final = native * (covered / wanted) ** 2
        if isinstance(stored_filters, str):
            stored_filters = json.loads(stored_filters)
        ranked.append((final, native, key, title, stored_filters, matches))
    ranked.sort(key=lambda row: (-row[0], -row[1], row[2]))
    hits = [
        SearchHit(
            key=key,
            title=title,
            score=final,
            filters=dict(stored_filters or {}),
            matches=matches,
        )
        for final, _score, key, title, stored_filters, matches in ranked[offset : offset + limit]
    ]
    # fewer candidates than the window means every match was found; otherwise there are
    # at least ``window`` (counting all matches of a common word costs more than the search)
    capped = len(rows) >= window
    return SearchResult(
        hits=hits, total=window if capped else len(rows), concepts=concepts, total_capped=capped
    )
