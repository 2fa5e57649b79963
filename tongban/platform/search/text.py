"""Chinese segmentation for the index and for queries, and pinyin of vocabulary terms.

jieba runs in precise mode with the government-service dictionary shipped in
``data/gov_terms.txt`` plus every active synonym term (added by :mod:`.vocabulary`). The
database only ever sees the space-separated tokens made here.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import jieba
from pypinyin import Style, lazy_pinyin

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICTIONARY = DATA_DIR / "gov_terms.txt"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"
MAX_QUERY_CHARS = 100
# sub-words are looked up inside words up to this length (longer runs are HMM noise)
MAX_SUBWORD_SOURCE = 16

_RUN = re.compile(r"[^\W_]+")
# clause boundaries: whitespace and punctuation (jieba never joins words across them)
_CLAUSE = re.compile(r"[^\w\u3400-\u9fff]+")
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_LATIN = re.compile(r"^[a-z]+$")

# dictionary words that glue a stop-word to the word people mean (我想开一家奶茶店)
NOT_WORDS = ("想开", "想办", "要办", "去办", "在哪办", "怎么办")

_lock = threading.RLock()
_state: dict[str, jieba.Tokenizer | None] = {"tokenizer": None}
_base_words: set[str] = set()
_extra_words: set[str] = set()


def _load() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.load_userdict(str(USER_DICTIONARY))
    for word in NOT_WORDS:
        tokenizer.del_word(word)
    for line in USER_DICTIONARY.read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0].strip()
        if word:
            _base_words.add(word)
    return tokenizer


def tokenizer() -> jieba.Tokenizer:
    """The process's jieba tokenizer, loaded on first use (thread-safe, once)."""
    current = _state["tokenizer"]
    if current is None:
        with _lock:
            current = _state["tokenizer"]
            if current is None:
                current = _load()
                _state["tokenizer"] = current
    return current


def set_extra_words(words: Iterable[str]) -> None:
    """Make jieba know exactly these extra words (synonym terms) besides its dictionaries."""
    wanted = {word for word in words if _RUN.fullmatch(normalize(word))}
    with _lock:
        current = tokenizer()
        # only the words added here are ever deleted here: a synonym that jieba's own
        # dictionary knows (营业执照) must stay a word when its synonym group goes
        added = {
            word
            for word in wanted - _extra_words
            if word not in _base_words and current.FREQ.get(word, 0) == 0
        }
        for word in added:
            current.add_word(word)
        gone = _extra_words - wanted
        for word in gone:
            current.del_word(word)
        if added or gone:
            _clause_tokens.cache_clear()
        _extra_words.difference_update(gone)
        _extra_words.update(added)


@cache
def stopwords() -> frozenset[str]:
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def normalize(text: str) -> str:
    """Full-width to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def is_chinese(word: str) -> bool:
    return bool(_CJK.match(word))


def is_latin(word: str) -> bool:
    return bool(_LATIN.match(word))


def _words(text: str) -> Iterable[str]:
    for word in tokenizer().cut(normalize(text), HMM=True):
        yield from _RUN.findall(word)


def tokens_for_index(text: str) -> list[str]:
    """Words of ``text`` plus the dictionary words inside longer words (a superset of
    jieba's search mode: 营业执照 also gives 营业 and 执照), without stop-words.

    Clauses (between punctuation) are segmented once per process and remembered: catalogues
    repeat the same materials, conditions and department names many times."""
    tokens: list[str] = []
    for clause in _CLAUSE.split(normalize(text)):
        if clause:
            tokens.extend(_clause_tokens(clause))
    return tokens


@lru_cache(maxsize=200_000)
def _clause_tokens(clause: str) -> tuple[str, ...]:
    current = tokenizer()
    frequencies = current.FREQ
    stop = stopwords()
    tokens: list[str] = []
    for word in _words(clause):
        if word not in stop:
            tokens.append(word)
        length = len(word)
        if 2 < length <= MAX_SUBWORD_SOURCE and is_chinese(word):
            for size in range(2, length):
                for start in range(length - size + 1):
                    part = word[start : start + size]
                    if frequencies.get(part) and part not in stop:
                        tokens.append(part)
    return tuple(tokens)


def index_string(text: str) -> str:
    return " ".join(tokens_for_index(text))


def words_for_query(text: str) -> list[str]:
    """The distinct words of a query (precise mode), without stop-words and punctuation."""
    stop = stopwords()
    seen: dict[str, None] = {}
    for word in _words(text[:MAX_QUERY_CHARS]):
        if word not in stop:
            seen.setdefault(word, None)
    return list(seen)


@lru_cache(maxsize=20_000)
def parts_of(word: str) -> tuple[str, ...]:
    """The dictionary words inside a longer Chinese word, the longest ones only:
    公积金提取 → (公积金, 提取), 新生儿落户 → (新生儿, 落户). A query word that the index
    never saw whole is still found through its parts."""
    if len(word) < 4 or not is_chinese(word):  # 公积金, 身份证: whole words, not split
        return ()
    stop = stopwords()
    found = [
        part
        for part in dict.fromkeys(tokenizer().cut_for_search(word, HMM=False))
        if part != word and len(part) >= 2 and is_chinese(part) and part not in stop
    ]
    longest = [
        part for part in found if not any(part != other and part in other for other in found)
    ]
    return tuple(sorted(longest, key=word.find))


def pinyin_of(term: str) -> tuple[str, str]:
    """Full pinyin without tones or spaces, and initials: 社保 → ("shebao", "sb")."""
    syllables = [syllable for syllable in lazy_pinyin(term, style=Style.NORMAL) if syllable]
    return "".join(syllables), "".join(syllable[0] for syllable in syllables)
