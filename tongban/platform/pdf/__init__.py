"""PDF rendering for notices and licences (ReportLab, embedded Chinese font).

A plain package, not a Django app: ``render_notice(...)`` and ``render_licence(...)`` take
plain values and return PDF bytes. See docs/decisions/0012-licences-and-pdf.md.
"""

from tongban.platform.pdf.fonts import PdfFont, pdf_font
from tongban.platform.pdf.render import chinese_date, render_licence, render_notice

__all__ = ["PdfFont", "chinese_date", "pdf_font", "render_licence", "render_notice"]
