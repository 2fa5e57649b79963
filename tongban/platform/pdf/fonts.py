"""The Chinese font PDFs are set in: an embedded TrueType font when one is installed.

Search order: the ``TONGBAN_PDF_FONT`` setting (or environment variable), then fonts from
Debian packages (fonts-wqy-zenhei first). ReportLab embeds TrueType outlines only; fonts
with CFF (PostScript) outlines such as Noto CJK are refused by its parser and skipped. When
nothing loads, the built-in CID font ``STSong-Light`` is used: it is *not* embedded, so the
reader's own Chinese font shows the text (Adobe Reader fetches a pack; others substitute),
and a warning is logged once per process.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

FONT_SETTING = "TONGBAN_PDF_FONT"
EMBEDDED_FONT_NAME = "TongbanCJK"
FALLBACK_FONT_NAME = "STSong-Light"

# (path, subfont index in a .ttc collection); the Debian package is in the comment
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # fonts-wqy-microhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # fonts-arphic-uming
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),  # fonts-arphic-ukai
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
    # fonts-noto-cjk: CFF outlines, which ReportLab cannot embed; tried last, then skipped
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
)


@dataclass(frozen=True)
class PdfFont:
    """The registered ReportLab font name, where it came from, and whether it is embedded."""

    name: str
    path: str
    embedded: bool


def configured_font_path() -> str:
    """The font file named by the setting or the environment ('' when none)."""
    try:
        from django.conf import settings

        value = getattr(settings, FONT_SETTING, None) if settings.configured else None
    except ImportError:  # pragma: no cover - Django is always installed with Tongban
        value = None
    if not value:  # settings read the same variable at start; a later change wins
        value = os.environ.get(FONT_SETTING, "")
    return str(value).strip()


def _try_truetype(path: str, index: int) -> PdfFont | None:
    if not os.path.isfile(path):
        return None
    try:
        font = TTFont(EMBEDDED_FONT_NAME, path, subfontIndex=index)
    except (TTFError, OSError, ValueError) as error:
        logger.info("pdf font %s not usable: %s", path, error)
        return None
    pdfmetrics.registerFont(font)
    return PdfFont(name=EMBEDDED_FONT_NAME, path=path, embedded=True)


@lru_cache(maxsize=1)
def pdf_font() -> PdfFont:
    """Find, register and return the font; cached for the life of the process."""
    configured = configured_font_path()
    if configured:
        found = _try_truetype(configured, 0)
        if found is not None:
            return found
        logger.error(
            "%s=%s is not a TrueType font ReportLab can embed; looking for another",
            FONT_SETTING,
            configured,
        )
    for path, index in CANDIDATES:
        found = _try_truetype(path, index)
        if found is not None:
            return found
    logger.warning(
        "no embeddable Chinese TrueType font found (install fonts-wqy-zenhei or set %s); "
        "PDFs use the non-embedded CID font %s",
        FONT_SETTING,
        FALLBACK_FONT_NAME,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT_NAME))
    return PdfFont(name=FALLBACK_FONT_NAME, path="", embedded=False)


def pdf_font_reset() -> None:
    """Forget the cached choice (tests that change the setting)."""
    pdf_font.cache_clear()
