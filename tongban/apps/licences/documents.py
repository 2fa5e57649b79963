"""What a licence looks like outside the database: its public data, verify URL, QR code
and PDF face."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.apps.licences import signing
from tongban.apps.licences.models import HolderIdType, Licence
from tongban.apps.licences.signing import Verdict
from tongban.platform.crypto.masking import mask_name
from tongban.platform.pdf import chinese_date, render_licence

PUBLIC_URL_SETTING = "TONGBAN_PUBLIC_URL"


def verdict_labels() -> dict[str, str]:
    return {
        Verdict.VALID: _("有效"),
        Verdict.REVOKED: _("已撤销"),
        Verdict.EXPIRED: _("已过期"),
        Verdict.TAMPERED: _("验证失败（数据被篡改）"),
        Verdict.NOT_FOUND: _("未找到"),
    }


def verify_path(identifier: str) -> str:
    return reverse("licences:verify", args=[identifier])


def public_base_url() -> str:
    """The site's public address (``https://zwfw.example.gov.cn``) for QR codes printed
    on PDFs, which have no request to take the host from; '' when not configured."""
    value = getattr(settings, PUBLIC_URL_SETTING, None)
    if value is None:
        value = os.environ.get(PUBLIC_URL_SETTING, "")
    return str(value).rstrip("/")


def verify_url(identifier: str, base: str | None = None) -> str:
    return f"{public_base_url() if base is None else base.rstrip('/')}{verify_path(identifier)}"


def qr_svg(text: str) -> bytes:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def holder_is_person(licence: Licence) -> bool:
    return licence.holder_id_type != HolderIdType.USCC


def holder_public_name(licence: Licence) -> str:
    """A person's name masked (张*); an enterprise's name in full."""
    return mask_name(licence.holder_name) if holder_is_person(licence) else licence.holder_name


def validity_text(licence: Licence) -> str:
    if licence.valid_until is None:
        return _("%(start)s起长期有效") % {"start": chinese_date(licence.valid_from)}
    return _("%(start)s至%(end)s") % {
        "start": chinese_date(licence.valid_from),
        "end": chinese_date(licence.valid_until),
    }


@dataclass(frozen=True)
class PublicView:
    """What the public verification page and API show."""

    verdict: str
    verdict_label: str
    identifier: str
    number: str
    name: str
    type_code: str
    holder: str
    holder_id_type: str
    holder_id_masked: str
    issuer_name: str
    issuer_uscc: str
    issued_on: str
    valid_from: str
    valid_until: str | None
    validity: str
    revoked_at: str | None
    previous: str | None
    key_fingerprint: str


def public_view(licence: Licence) -> PublicView:
    verdict = signing.verdict_of(licence)
    return PublicView(
        verdict=verdict.value,
        verdict_label=verdict_labels()[verdict],
        identifier=licence.identifier,
        number=licence.number,
        name=licence.name,
        type_code=licence.licence_type.code,
        holder=holder_public_name(licence),
        holder_id_type=licence.get_holder_id_type_display(),
        holder_id_masked=licence.holder_id_masked,
        issuer_name=licence.issuer_name,
        issuer_uscc=licence.issuer.uscc,
        issued_on=licence.issued_on.isoformat(),
        valid_from=licence.valid_from.isoformat(),
        valid_until=licence.valid_until.isoformat() if licence.valid_until else None,
        validity=validity_text(licence),
        revoked_at=licence.revoked_at.isoformat() if licence.revoked_at else None,
        previous=licence.previous.identifier if licence.previous else None,
        key_fingerprint=licence.signing_key.fingerprint,
    )


def _watermark(verdict: Verdict) -> str:
    return {
        Verdict.VALID: "",
        Verdict.REVOKED: _("已撤销"),
        Verdict.EXPIRED: _("已过期"),
        Verdict.TAMPERED: _("验证失败"),
    }.get(verdict, "")


def licence_pdf_bytes(licence: Licence, *, base_url: str | None = None) -> bytes:
    """The licence's printable face, always in Chinese (an official document, whatever
    the viewer's interface language); a licence that is not valid carries its verdict
    across the page. The ID number is masked: the full one stays in the database."""
    with translation.override("zh-hans"):
        return _licence_pdf(licence, base_url=base_url)


def _licence_pdf(licence: Licence, *, base_url: str | None) -> bytes:
    verdict = signing.verdict_of(licence)
    rows: list[tuple[str, str]] = [
        (_("持证主体"), licence.holder_name),
        (_("证件类型"), licence.get_holder_id_type_display()),
        (_("证件号码"), licence.holder_id_masked),
        *((str(label), str(value)) for label, value in (licence.fields or {}).items()),
        (_("有效期限"), validity_text(licence)),
        (_("发证机关"), licence.issuer_name),
    ]
    if licence.previous_id:
        rows.append((_("原证照编号"), licence.previous.number))  # type: ignore[union-attr]
    footer = [
        _("签名：SM2（SM3摘要），签名密钥指纹 %(fingerprint)s")
        % {"fingerprint": licence.signing_key.fingerprint},
        _("核验：扫描二维码或访问 %(url)s") % {"url": verify_url(licence.identifier, base_url)},
    ]
    return render_licence(
        name=licence.name,
        number=licence.number,
        identifier=licence.identifier,
        issuer=licence.issuer_name,
        issued_on=licence.issued_on,
        rows=rows,
        qr_text=verify_url(licence.identifier, base_url),
        footer=footer,
        watermark=_watermark(verdict),
    )
