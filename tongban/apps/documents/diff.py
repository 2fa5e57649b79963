"""Differences between two revisions of a document's title and body (``difflib``).

Paragraphs (lines) are compared first; a replaced paragraph is compared again character by
character so the page can mark the changed words. The result is plain data (text pieces
with a kind): templates print it with autoescaping, nothing is marked safe.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal, Protocol

PieceKind = Literal["same", "del", "ins"]
LineKind = Literal["same", "removed", "added", "changed"]
MAX_INLINE = 5000  # characters: longer replaced paragraphs are shown whole, not by character


class Versioned(Protocol):
    number: int
    title: str
    body: str


@dataclass(frozen=True)
class Piece:
    kind: PieceKind
    text: str


@dataclass(frozen=True)
class Line:
    kind: LineKind
    old_number: int | None = None
    new_number: int | None = None
    old: tuple[Piece, ...] = ()
    new: tuple[Piece, ...] = ()


@dataclass(frozen=True)
class Comparison:
    old_number: int
    new_number: int
    title_old: tuple[Piece, ...]
    title_new: tuple[Piece, ...]
    title_changed: bool
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind in ("added", "changed"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind in ("removed", "changed"))

    @property
    def unchanged(self) -> bool:
        return not self.title_changed and all(line.kind == "same" for line in self.lines)


def inline(old: str, new: str) -> tuple[tuple[Piece, ...], tuple[Piece, ...]]:
    """Character-level pieces of ``old`` (same/del) and ``new`` (same/ins)."""
    if len(old) + len(new) > MAX_INLINE:
        return (Piece("del", old),), (Piece("ins", new),)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    left: list[Piece] = []
    right: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(Piece("same", old[i1:i2]))
            right.append(Piece("same", new[j1:j2]))
            continue
        if i2 > i1:
            left.append(Piece("del", old[i1:i2]))
        if j2 > j1:
            right.append(Piece("ins", new[j1:j2]))
    return tuple(left), tuple(right)


def _paragraphs(text: str) -> list[str]:
    return (text or "").split("\n") if text else []


def compare_text(old: str, new: str) -> tuple[Line, ...]:
    """Paragraph by paragraph; replaced runs are paired up and compared by character."""
    a, b = _paragraphs(old), _paragraphs(new)
    lines: list[Line] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                text = (Piece("same", a[i1 + offset]),)
                lines.append(Line("same", i1 + offset + 1, j1 + offset + 1, text, text))
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for offset in range(pairs):
            left, right = inline(a[i1 + offset], b[j1 + offset])
            lines.append(Line("changed", i1 + offset + 1, j1 + offset + 1, left, right))
        for index in range(i1 + pairs, i2):
            lines.append(Line("removed", old_number=index + 1, old=(Piece("del", a[index]),)))
        for index in range(j1 + pairs, j2):
            lines.append(Line("added", new_number=index + 1, new=(Piece("ins", b[index]),)))
    return tuple(lines)


def compare(old: Versioned, new: Versioned) -> Comparison:
    left, right = inline(old.title, new.title)
    return Comparison(
        old_number=old.number,
        new_number=new.number,
        title_old=left,
        title_new=right,
        title_changed=old.title != new.title,
        lines=compare_text(old.body, new.body),
    )
