"""Content type detection from the bytes themselves (never from the file name).

``puremagic`` reads the magic numbers; zip containers are opened with ``zipfile`` to tell
OFD (GB/T 33190: ``OFD.xml`` at the root), DOCX (``word/document.xml``) and XLSX
(``xl/workbook.xml``) apart. Text is recognised by decoding as UTF-8 (or GB 18030) with no
control characters other than whitespace.
"""

from __future__ import annotations

import codecs
import zipfile
from typing import IO

import puremagic

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
OFD = "application/ofd"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
TEXT = "text/plain"

EXTENSIONS = {
    PDF: ".pdf",
    JPEG: ".jpg",
    PNG: ".png",
    OFD: ".ofd",
    DOCX: ".docx",
    XLSX: ".xlsx",
    ZIP: ".zip",
    TEXT: ".txt",
}

#: what a file's name claims, by extension (lower case); names with other extensions or
#: none claim nothing and are judged by content alone
CLAIMED_TYPES = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".ofd": OFD,
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".zip": ZIP,
    ".txt": TEXT,
    ".csv": TEXT,
    ".json": TEXT,
}


def claimed_type(name: str) -> str:
    """The content type ``name``'s extension claims, or "" when it claims none we know."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return ""
    return CLAIMED_TYPES.get(f".{extension.lower()}", "")


HEAD_BYTES = 8192
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r\f")


def _zip_kind(stream: IO[bytes]) -> str:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return DOCX
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return XLSX
    return ZIP


def _is_text(head: bytes, *, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            # ``final=False`` when the sample may end inside a multi-byte character.
            text = decoder.decode(head, final=complete)
        except UnicodeDecodeError:
            continue
        return all(ch.isprintable() or ch in _TEXT_CONTROLS_ALLOWED for ch in text)
    return False


def detect_content_type(stream: IO[bytes]) -> str:
    """The MIME type of a seekable binary stream, or ``""`` when it is not recognised.

    The stream is left at position 0.
    """
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head:
        return ""
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    mime_types = {match.mime_type for match in matches}
    kind = ""
    if head.startswith(b"%PDF-") or PDF in mime_types:
        kind = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n") and PNG in mime_types:
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff") and JPEG in mime_types:
        kind = JPEG
    elif head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(stream)
        stream.seek(0)
    elif not matches and _is_text(head, complete=len(head) < HEAD_BYTES):
        kind = TEXT
    elif matches:
        kind = matches[0].mime_type or ""
    return kind
