"""Issuing departments' electronic seals, and sealing a document (用印).

An ``IssuerSeal`` is the seal image placed over the date and two key pairs: an ECDSA P-256
key with a self-signed certificate for the PAdES signature, and an SM2 key pair for the
signature over the canonical content. Private keys are stored as platform-crypto frames
(SM4-GCM, purpose ``documents.seal``) and re-encrypted by ``tongban rotate-keys``
(``register()`` declares the two columns). One active seal per department: making a new
one retires the previous seal, whose certificate and public key stay for verification.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import events, permissions
from tongban.apps.documents.convert import document_to_layout
from tongban.apps.documents.models import Document, DocumentState, IssuerSeal, Kind
from tongban.apps.documents.sealing import SigningIdentity, demo_identity, demo_seal, seal_document
from tongban.platform.access.services import ScopePaths, require, scope_queryset
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import decrypt_text, encrypt_text, sm3_hex
from tongban.platform.events.services import event_publish
from tongban.platform.files import detection
from tongban.platform.files.services import FileRejected, file_store
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

SEAL_KEY_PURPOSE = "documents.seal"
DEPARTMENT_SCOPE = ScopePaths(department="")
ISSUER_SCOPE = ScopePaths(department="issuer")
MAX_NAME = 100
MAX_IMAGE_BYTES = 1024 * 1024
MIN_IMAGE_PIXELS = 100
MAX_IMAGE_PIXELS = 2000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# states in which a document has been signed off and numbered but not yet archived
SEALABLE_STATES = (
    DocumentState.NUMBERING,
    DocumentState.SEALING,
    DocumentState.DISTRIBUTING,
)


def register() -> None:
    """Declare the encrypted key columns for ``tongban rotate-keys`` and let the platform's
    file download serve a sealed PDF to whoever may read the document (call from setup)."""
    from tongban.apps.documents.verification import sealed_pdf_readable
    from tongban.platform.crypto.rotation import register_encrypted_column
    from tongban.platform.files.services import file_read_check_register

    register_encrypted_column(IssuerSeal, "pades_key_encrypted", SEAL_KEY_PURPOSE)
    register_encrypted_column(IssuerSeal, "sm2_private_encrypted", SEAL_KEY_PURPOSE)
    file_read_check_register(sealed_pdf_readable)


# --- reading -----------------------------------------------------------------------------


def active_seal(department: Department | int) -> IssuerSeal | None:
    department_id = department if isinstance(department, int) else department.pk
    return IssuerSeal.objects.filter(department_id=department_id, active=True).first()


def seal_identity(seal: IssuerSeal) -> SigningIdentity:
    """The seal's signing identity, private keys decrypted (keep it in memory only)."""
    return SigningIdentity(
        name=seal.department.name,
        key_pem=decrypt_text(bytes(seal.pades_key_encrypted), purpose=SEAL_KEY_PURPOSE).encode(
            "ascii"
        ),
        cert_pem=seal.certificate_pem.encode("ascii"),
        sm2_private_pem=decrypt_text(
            bytes(seal.sm2_private_encrypted), purpose=SEAL_KEY_PURPOSE
        ).encode("ascii"),
        sm2_public_pem=seal.sm2_public_pem.encode("ascii"),
    )


def certificate_subject(seal: IssuerSeal) -> str:
    """The PAdES certificate's subject as one line (RFC 4514)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(seal.certificate_pem.encode("ascii"))
    return cert.subject.rfc4514_string()


def certificate_fingerprint(seal: IssuerSeal) -> str:
    """SM3 of the certificate (PEM, stripped): shown beside the seal and audited."""
    return sm3_hex(seal.certificate_pem.strip().encode("ascii"))


# --- managing seals ----------------------------------------------------------------------


def seal_image_clean(image: bytes | None) -> bytes | None:
    """The PNG if it is one Pillow can read, of a sensible size; ValidationError otherwise."""
    if image is None:
        return None
    if not image:
        raise ValidationError({"image": _("印模文件为空")})
    if len(image) > MAX_IMAGE_BYTES:
        raise ValidationError({"image": _("印模文件不能超过1 MB")})
    if not image.startswith(PNG_MAGIC):
        raise ValidationError({"image": _("印模须为PNG图片（建议透明背景）")})
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as picture:
            picture.verify()
            width, height = picture.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError({"image": _("印模图片无法识别")}) from None
    if not (
        MIN_IMAGE_PIXELS <= width <= MAX_IMAGE_PIXELS
        and MIN_IMAGE_PIXELS <= height <= MAX_IMAGE_PIXELS
    ):
        raise ValidationError({"image": _("印模图片的宽和高应在100到2000像素之间")})
    return image


def _name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写印章名称")})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": _("印章名称不能超过100个字")})
    return name


def _create(
    *, actor: User | None, department: Department, name: str, image: bytes, replaces: str
) -> IssuerSeal:
    """Generate the keys (outside any lock), then retire the active seal and store the new
    one in one transaction, the department row locked so two makers queue."""
    identity = demo_identity(department.name)
    with transaction.atomic():
        Department.objects.select_for_update().filter(pk=department.pk).first()
        now = timezone.now()
        previous = list(
            IssuerSeal.objects.select_for_update().filter(department=department, active=True)
        )
        IssuerSeal.objects.filter(pk__in=[seal.pk for seal in previous]).update(
            active=False, retired_at=now
        )
        seal = IssuerSeal.objects.create(
            department=department,
            name=name,
            image=image,
            certificate_pem=identity.cert_pem.decode("ascii"),
            pades_key_encrypted=encrypt_text(
                identity.key_pem.decode("ascii"), purpose=SEAL_KEY_PURPOSE
            ),
            sm2_public_pem=identity.sm2_public_pem.decode("ascii"),
            sm2_private_encrypted=encrypt_text(
                identity.sm2_private_pem.decode("ascii"), purpose=SEAL_KEY_PURPOSE
            ),
            active=True,
            created_by=actor,
        )
        audit_record(
            action=replaces or "documents.seal.create",
            actor=actor,
            target=seal,
            detail={
                "department": department.code,
                "name": name,
                "image_sm3": sm3_hex(image),
                "certificate_sm3": certificate_fingerprint(seal),
                "retired": [seal.pk for seal in previous],
            },
        )
    return seal


def seal_create(
    *, actor: User, department: Department, name: str, image: bytes | None
) -> IssuerSeal:
    """A new active seal for ``department`` (SEAL_MANAGE over it); the previous active seal
    is retired. Without an image a demonstration seal is drawn with the department's name."""
    require(actor, permissions.SEAL_MANAGE, target=department, paths=DEPARTMENT_SCOPE)
    cleaned_name = _name_clean(name)
    cleaned_image = seal_image_clean(image)
    return _create(
        actor=actor,
        department=department,
        name=cleaned_name,
        image=cleaned_image if cleaned_image is not None else demo_seal(department.name),
        replaces="",
    )


def seal_rotate(*, actor: User, seal: IssuerSeal) -> IssuerSeal:
    """New keys for the same seal image and name (e.g. a key feared compromised)."""
    department = seal.department
    require(actor, permissions.SEAL_MANAGE, target=department, paths=DEPARTMENT_SCOPE)
    if not seal.active:
        raise ValidationError(_("该印章已停用，不能更换密钥"))
    return _create(
        actor=actor,
        department=department,
        name=seal.name,
        image=bytes(seal.image),
        replaces="documents.seal.rotate",
    )


def seal_retire(*, actor: User, seal: IssuerSeal) -> IssuerSeal:
    """Stop using ``seal`` without a replacement (documents already sealed stay verifiable)."""
    require(actor, permissions.SEAL_MANAGE, target=seal.department, paths=DEPARTMENT_SCOPE)
    with transaction.atomic():
        locked = IssuerSeal.objects.select_for_update().get(pk=seal.pk)
        if not locked.active:
            raise ValidationError(_("该印章已停用"))
        locked.active = False
        locked.retired_at = timezone.now()
        locked.save(update_fields=["active", "retired_at"])
        audit_record(
            action="documents.seal.retire",
            actor=actor,
            target=locked,
            detail={"department": locked.department.code},
        )
    return locked


def ensure_seal(department: Department) -> IssuerSeal:
    """The department's active seal, a demonstration one made when it has none (demo data
    and tests; audited without an actor)."""
    found = active_seal(department)
    if found is not None:
        return found
    return _create(
        actor=None,
        department=department,
        name=_("%(department)s电子印章") % {"department": department.name},
        image=demo_seal(department.name),
        replaces="",
    )


# --- sealing a document ------------------------------------------------------------------


def _pdf_name(document: Document) -> str:
    label = document.number or str(document.public_id)
    safe = "".join(char for char in label if char not in '/\\:*?"<>|')
    return f"{safe}.pdf"


def _max_pdf_bytes() -> int:
    return int(getattr(settings, "TONGBAN_DOCUMENTS_MAX_PDF_BYTES", 100 * 1024 * 1024))


def document_seal(*, actor: User, document: Document) -> Document:
    """用印: render the document with the issuer's active seal over the date, sign it (PAdES
    on the PDF, SM2 on the content), store the PDF and record who sealed it and when.

    Called from the drafting process's 用印 step (which checked NUMBER_SEAL and moves the
    state on); this only checks that the actor may seal the issuer's documents and that the
    document is numbered. A 纪要 is signed without a seal image (and, when it has no 成文日期,
    dated the day it is signed, so the signed content can be rebuilt). Sealing twice returns the
    document as it is. Rendering and signing happen before the transaction opens (when the
    caller has none open)."""
    require(actor, permissions.NUMBER_SEAL, target=document, paths=ISSUER_SCOPE)
    document = Document.objects.select_related("issuer").get(pk=document.pk)
    if document.sealed_pdf_id is not None:
        return document
    if document.state not in SEALABLE_STATES:
        raise ValidationError(_("只有已签发、已编号的公文才能用印"))
    minutes = document.kind == Kind.MINUTES
    if document.serial is None and not minutes:
        raise ValidationError(_("公文尚未编号，不能用印"))
    if document.date is None:
        if not minutes:
            raise ValidationError(_("公文没有成文日期，不能用印"))
        document.date = timezone.localdate()  # a 纪要's date: the day it is signed
    seal = active_seal(document.issuer_id)
    if seal is None:
        raise ValidationError(
            _("%(department)s没有启用的电子印章，请先在“电子印章”中制作")
            % {"department": document.issuer.name}
        )
    seal.department = document.issuer
    image = None if minutes else bytes(seal.image)
    layout = document_to_layout(document, seal_image=image)
    sealed = seal_document(layout, seal_identity(seal))
    try:
        with transaction.atomic():
            locked = (
                Document.objects.select_for_update().select_related("issuer").get(pk=document.pk)
            )
            if locked.sealed_pdf_id is not None:
                return locked
            stored = file_store(
                actor=actor,
                upload=ContentFile(sealed.pdf, name=_pdf_name(locked)),
                allowed_types={detection.PDF},
                max_bytes=_max_pdf_bytes(),
            )
            now = timezone.now()
            locked.date = document.date
            locked.sealed_pdf = stored
            locked.sm2_signature = sealed.sm2_signature
            locked.content_sm3 = sealed.content_sm3
            locked.sealed_content = layout.canonical_content()
            locked.seal = seal
            locked.sealed_by = actor
            locked.sealed_at = now
            locked.save(
                update_fields=[
                    "sealed_pdf",
                    "sm2_signature",
                    "content_sm3",
                    "sealed_content",
                    "seal",
                    "sealed_by",
                    "sealed_at",
                    "date",
                    "updated_at",
                ]
            )
            audit_record(
                action="documents.document.seal",
                actor=actor,
                target=locked,
                detail={
                    "seal": seal.pk,
                    "number": locked.number,
                    "content_sm3": sealed.content_sm3,
                    "pdf_sm3": stored.sm3,
                },
            )
            event_publish(
                events.DOCUMENT_SEALED,
                {
                    "document": str(locked.public_id),
                    "issuer": locked.issuer.code,
                    "number": locked.number,
                    "title": locked.title,
                    "content_sm3": sealed.content_sm3,
                },
                actor=actor,
            )
            from tongban.apps.documents.archive import document_index

            document_index(document=locked)
    except FileRejected as rejected:
        raise ValidationError(rejected.message) from None
    return locked


def seal_list_for(*, actor: Any) -> QuerySet[IssuerSeal]:
    """Seals of the departments where ``actor`` manages seals, active first."""
    return scope_queryset(
        actor,
        IssuerSeal.objects.select_related("department", "created_by"),
        permissions.SEAL_MANAGE,
        ScopePaths(department="department"),
    ).order_by("department__name", "-active", "-created_at", "-id")
