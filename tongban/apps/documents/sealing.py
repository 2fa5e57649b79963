"""Sealing an official document: the seal image, a PAdES signature, an SM2 signature.

1. ``seal_image_for(doc)``: the issuer's seal (PNG) placed over the date by the renderer;
   a demo seal (red ring, the issuer's name around it, a star) is drawn with Pillow when
   the document carries none.
2. ``pades_sign(pdf, identity)``: a PAdES baseline signature (pyHanko, ECDSA P-256 /
   SHA-256) that standard PDF tools (poppler's ``pdfsig``, Acrobat) validate.
3. ``sm2_sign(doc, identity)``: an SM2 signature (SM3 digest) over the document's canonical
   content — its fields, not the PDF bytes — for the national algorithm.
4. ``verify(...)``: both checks, plus that the PDF belongs to that content (the renderer
   writes the content's SM3 digest into the PDF's keywords, which PAdES then covers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import math
import secrets
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext as _

from tongban.apps.documents.layout import SEAL_RED, OfficialDocument
from tongban.platform.crypto import sm2
from tongban.platform.crypto.sm import sm3_hex

T = TypeVar("T")

SEAL_PIXELS = 480  # 42 mm at about 290 dpi
FIELD_NAME = "TongbanSeal"


# --- the seal image ----------------------------------------------------------------------


def seal_image_for(doc: OfficialDocument) -> bytes:
    """The document's seal image, or a demo seal drawn for its issuer."""
    return doc.seal_image or demo_seal(doc.issuer)


@lru_cache(maxsize=64)
def demo_seal(name: str) -> bytes:
    """A demo round seal as PNG: red ring, ``name`` around the upper arc, a star inside.

    Clearly a demonstration: real seals come from the seal management system; the ink is
    slightly translucent so the signature and date show through it as on paper.
    """
    from PIL import Image, ImageDraw, ImageFont

    from tongban.apps.documents.rendering import document_fonts

    size = SEAL_PIXELS
    ink = (
        round(SEAL_RED[0] * 255),
        round(SEAL_RED[1] * 255),
        round(SEAL_RED[2] * 255),
        215,
    )
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    ring = size * 0.035
    draw.ellipse(
        (ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=ink, width=round(ring)
    )
    centre = size / 2
    # the five-pointed star
    outer, inner = size * 0.17, size * 0.17 * 0.382
    points = []
    for index in range(10):
        radius = outer if index % 2 == 0 else inner
        angle = math.pi / 2 + index * math.pi / 5
        points.append((centre + radius * math.cos(angle), centre - radius * math.sin(angle)))
    draw.polygon(points, fill=ink)
    font_info = document_fonts().hei
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype(font_info.path, round(size * 0.15), index=font_info.index)
    except OSError:
        font = ImageFont.load_default(round(size * 0.15))
    chars = list(name)
    span = min(260.0, 28.0 * max(len(chars), 1) + 40)  # degrees of arc the name covers
    radius = size / 2 - ring - size * 0.1
    for index, char in enumerate(chars):
        step = span / max(len(chars) - 1, 1)
        angle = -span / 2 + index * step if len(chars) > 1 else 0.0
        glyph = Image.new("RGBA", (round(size * 0.2), round(size * 0.2)), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), char, font=font, fill=ink, anchor="mm"
        )
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        theta = math.radians(angle)
        x = centre + radius * math.sin(theta) - glyph.width / 2
        y = centre - radius * math.cos(theta) - glyph.height / 2
        image.alpha_composite(glyph, (round(x), round(y)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


# --- signing identity --------------------------------------------------------------------


@dataclass(frozen=True)
class SigningIdentity:
    """An issuer's keys: ECDSA P-256 key and certificate for PAdES, an SM2 key pair."""

    name: str
    key_pem: bytes
    cert_pem: bytes
    sm2_private_pem: bytes
    sm2_public_pem: bytes


def demo_identity(name: str, *, valid_days: int = 3650) -> SigningIdentity:
    """A self-signed identity for demos and tests (real ones come from a CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    sm2_private = sm2.generate_private_key_pem()
    return SigningIdentity(
        name=name,
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        sm2_private_pem=sm2_private,
        sm2_public_pem=sm2.public_key_pem(sm2_private),
    )


# --- PAdES -------------------------------------------------------------------------------


def _run_coroutine(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one of pyHanko's coroutines to completion from synchronous code. Its own sync
    wrappers call ``asyncio.run``, which fails in a thread whose event loop is running
    (an ASGI server, Playwright's sync API in the tests): there a worker thread runs it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def pades_sign(pdf: bytes, identity: SigningIdentity, *, reason: str = "") -> bytes:
    """Append a PAdES baseline signature (incremental update) to ``pdf``."""
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = next(iter(load_certs_from_pemder_data(identity.cert_pem)))
    key = load_private_key_from_pemder_data(identity.key_pem, passphrase=None)
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([cert]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=f"{FIELD_NAME}{secrets.token_hex(4)}",  # a later seal adds a field
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or _("公文用印"),
        name=identity.name,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = _run_coroutine(lambda: signers.async_sign_pdf(writer, meta, signer=signer))
    return bytes(output.getvalue())


# --- SM2 over the content ----------------------------------------------------------------


def content_digest(content: OfficialDocument | bytes) -> str:
    """SM3 of the canonical content (hex)."""
    data = content.canonical_content() if isinstance(content, OfficialDocument) else content
    return sm3_hex(data)


def sm2_sign(content: OfficialDocument | bytes, identity: SigningIdentity) -> bytes:
    """SM2 (with SM3) signature over the canonical content, DER encoded."""
    data = content.canonical_content() if isinstance(content, OfficialDocument) else content
    return sm2.sign(identity.sm2_private_pem, data)


@dataclass(frozen=True)
class SealedDocument:
    pdf: bytes
    sm2_signature: bytes
    content_sm3: str


def seal_document(doc: OfficialDocument, identity: SigningIdentity) -> SealedDocument:
    """Render with the seal over the date, then sign: PAdES on the PDF, SM2 on the content."""
    from tongban.apps.documents.rendering import render_document

    pdf = pades_sign(render_document(doc), identity)
    return SealedDocument(pdf, sm2_sign(doc, identity), content_digest(doc))


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationResult:
    intact: bool  # both signatures valid and the PDF belongs to the content
    signer: str
    signed_at: dt.datetime | None
    pades_valid: bool
    sm2_valid: bool
    reasons: list[str] = field(default_factory=list)
    trusted: bool = False  # the PAdES certificate chains to one of ``trust_roots``


def _keywords(reader: object) -> str:
    try:
        info = reader.trailer["/Info"]  # type: ignore[attr-defined]
        return str(info.get("/Keywords", ""))
    except (KeyError, AttributeError, TypeError):
        return ""


def verify(
    pdf_bytes: bytes,
    sm2_signature: bytes,
    public_key: bytes,
    content: OfficialDocument | bytes,
    *,
    trust_roots: tuple[bytes, ...] = (),
) -> VerificationResult:
    """Is the document intact, who sealed it and when.

    ``public_key`` is the issuer's SM2 public key (PEM); ``content`` the document (or its
    canonical bytes). ``trust_roots`` are PEM certificates to trust; without them the
    PAdES certificate is checked for integrity only and reported as not trusted.
    """
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    reasons: list[str] = []
    data = content.canonical_content() if isinstance(content, OfficialDocument) else content
    digest = sm3_hex(data)

    sm2_valid = True
    try:
        sm2.verify(public_key, data, sm2_signature)
    except sm2.SignatureInvalid:
        sm2_valid = False
        reasons.append(_("SM2签名与公文内容不符"))
    except Exception:  # noqa: BLE001 - tongsuopy raises InternalError for malformed input
        sm2_valid = False
        reasons.append(_("SM2公钥或签名格式无效"))

    pades_valid = False
    trusted = False
    signer = ""
    signed_at: dt.datetime | None = None
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            reasons.append(_("PDF没有数字签名"))
        else:
            embedded = signatures[-1]
            cert = embedded.signer_cert
            signer = str(cert.subject.native.get("common_name", ""))
            roots = [c for pem in trust_roots for c in load_certs_from_pemder_data(pem)]
            context = ValidationContext(
                trust_roots=roots or [cert], allow_fetching=False, revocation_mode="soft-fail"
            )
            status = _run_coroutine(lambda: async_validate_pdf_signature(embedded, context))
            signed_at = status.signer_reported_dt
            pades_valid = bool(
                status.intact
                and status.valid
                and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
            )
            trusted = bool(roots) and bool(status.trusted)
            if not status.intact:
                reasons.append(_("PDF内容在签名后被改动"))
            elif not status.valid:
                reasons.append(_("PDF签名值无效"))
            elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
                reasons.append(_("签名后PDF又被追加修改"))
            if not roots:
                reasons.append(_("未提供信任的根证书，签名证书未做信任校验"))
            elif not trusted:
                reasons.append(_("签名证书不受信任"))
            if _keywords(reader) != "sm3:" + digest:
                pades_valid = False
                reasons.append(_("PDF与所给公文内容不一致"))
    except (PdfReadError, SignatureValidationError, ValueError, KeyError) as error:
        reasons.append(_("PDF无法解析或签名无法校验：%(error)s") % {"error": error})
        pades_valid = False
    return VerificationResult(
        intact=pades_valid and sm2_valid,
        signer=signer,
        signed_at=signed_at,
        pades_valid=pades_valid,
        sm2_valid=sm2_valid,
        reasons=reasons,
        trusted=trusted,
    )
