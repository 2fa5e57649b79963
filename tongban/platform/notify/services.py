"""Sending notifications: in-app at once, email and SMS from the worker (via the outbox)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.platform.audit.services import audit_record
from tongban.platform.events.services import event_publish
from tongban.platform.notify.models import (
    Channel,
    ChannelDelivery,
    DeliveryState,
    Message,
    MessageTemplate,
    Preference,
)
from tongban.platform.notify.sms import gateway

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "zh-hans"
LANGUAGES = ("zh-hans", "en")
DELIVERY_EVENT = "notify.delivery.created"

# Categories a user can tune on the preferences page. Apps add theirs from ready() with
# notify_register_category("approvals", _("办件进度")).
CATEGORIES: dict[str, Any] = {"general": _("一般通知"), "security": _("账号安全")}


def notify_register_category(code: str, label: Any) -> None:
    CATEGORIES[code] = label


DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str, str]] = {
    # (code, language): (subject, body, sms)
    ("platform.generic", "zh-hans"): ("{{ subject }}", "{{ body }}", "{{ body }}"),
    ("platform.generic", "en"): ("{{ subject }}", "{{ body }}", "{{ body }}"),
    ("platform.welcome", "zh-hans"): (
        "欢迎使用{{ city }}一体化政务服务平台",
        "{{ name }}，您好！您的账号 {{ username }} 已开通。",
        "【{{ city }}政务服务】{{ name }}，您的账号已开通。",
    ),
    ("platform.welcome", "en"): (
        "Welcome to the {{ city }} government service platform",
        "Hello {{ name }}, your account {{ username }} is ready.",
        "[{{ city }} e-gov] {{ name }}, your account is ready.",
    ),
    ("platform.account_locked", "zh-hans"): (
        "账号登录失败次数过多",
        "您的账号 {{ username }} 因多次登录失败已被临时锁定，如非本人操作请联系管理员。",
        "【政务服务】您的账号因多次登录失败已被临时锁定。",
    ),
    ("platform.account_locked", "en"): (
        "Too many failed sign-ins",
        "Your account {{ username }} is temporarily locked after repeated failed sign-ins. "
        "If this was not you, contact the administrator.",
        "[e-gov] Your account is temporarily locked after failed sign-ins.",
    ),
    ("platform.mfa_enabled", "zh-hans"): (
        "双因素认证已启用",
        "您的账号 {{ username }} 已启用双因素认证。",
        "",
    ),
    ("platform.mfa_enabled", "en"): (
        "Two-factor authentication enabled",
        "Two-factor authentication is now on for your account {{ username }}.",
        "",
    ),
}


def notify_seed_templates() -> int:
    """Create the default templates that do not exist yet (never overwrites edits)."""
    created = 0
    for (code, language), (subject, body, sms) in DEFAULT_TEMPLATES.items():
        _, was_created = MessageTemplate.objects.get_or_create(
            code=code,
            language=language,
            defaults={"subject": subject, "body": body, "sms_text": sms},
        )
        created += int(was_created)
    return created


def _language_of(user: Any) -> str:
    language = str(getattr(user, "preferred_language", "") or "").lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _default_template(code: str, language: str) -> MessageTemplate:
    subject, body, sms = DEFAULT_TEMPLATES.get(
        (code, language),
        DEFAULT_TEMPLATES.get(
            (code, DEFAULT_LANGUAGE), DEFAULT_TEMPLATES[("platform.generic", DEFAULT_LANGUAGE)]
        ),
    )
    return MessageTemplate(code=code, language=language, subject=subject, body=body, sms_text=sms)


def _template_for(code: str, language: str) -> MessageTemplate:
    """The edited template in the language, else in Chinese, else the built-in default."""
    found = {
        template.language: template
        for template in MessageTemplate.objects.filter(
            code=code, language__in={language, DEFAULT_LANGUAGE}
        )
    }
    return found.get(language) or found.get(DEFAULT_LANGUAGE) or _default_template(code, language)


def _render(text: str, context: dict[str, Any]) -> str:
    return Template(text).render(Context(context, autoescape=False)).strip()


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    sms_text: str


def _render_all(template: MessageTemplate, context: dict[str, Any]) -> Rendered:
    return Rendered(
        subject=_render(template.subject, context)[:200],
        body=_render(template.body, context),
        sms_text=_render(template.sms_text, context)[:300] if template.sms_text else "",
    )


def notify_render(*, template_code: str, language: str, context: dict[str, Any]) -> Rendered:
    """Render a template; an administrator's broken edit falls back to the built-in text
    (logged) rather than failing the caller's transaction."""
    template = _template_for(template_code, language)
    try:
        return _render_all(template, context)
    except TemplateSyntaxError:
        logger.exception(
            "message template %s/%s does not render; using the default", template_code, language
        )
        return _render_all(_default_template(template_code, language), context)


def _safe_link(link: str) -> str:
    """Only site paths and http(s) URLs: a ``javascript:`` link would run in the inbox."""
    if not link:
        return ""
    if (link.startswith("/") and not link.startswith("//")) or link.startswith(
        ("https://", "http://")
    ):
        return link[:300]
    raise ValueError("link must be a site path or an http(s) URL")


@transaction.atomic
def notify_send(
    *,
    recipients: Iterable[Any],
    template_code: str,
    context: dict[str, Any],
    category: str = "general",
    link: str = "",
    actor: Any = None,
) -> list[Message]:
    """In-app message now (in the caller's transaction); email/SMS from the worker after
    commit, each channel retried with backoff by the event outbox."""
    safe_link = _safe_link(link)
    users = list(recipients)
    preferences = {
        preference.user_id: preference
        for preference in Preference.objects.filter(user__in=users, category=category)
    }
    messages: list[Message] = []
    for user in users:
        rendered = notify_render(
            template_code=template_code, language=_language_of(user), context=context
        )
        message = Message.objects.create(
            recipient=user,
            template_code=template_code,
            category=category,
            subject=rendered.subject,
            body=rendered.body,
            sms_text=rendered.sms_text,
            link=safe_link,
        )
        ChannelDelivery.objects.create(
            message=message,
            channel=Channel.IN_APP,
            status=DeliveryState.SENT,
            attempts=1,
            sent_at=timezone.now(),
        )
        preference = preferences.get(user.pk)
        for channel, address in ((Channel.EMAIL, user.email), (Channel.SMS, user.mobile)):
            wanted = preference is None or bool(getattr(preference, channel))
            if not wanted or not address:
                reason = "preference off" if not wanted else f"no {channel} address"
                ChannelDelivery.objects.create(
                    message=message,
                    channel=channel,
                    status=DeliveryState.SKIPPED,
                    last_error=reason,
                )
                continue
            delivery = ChannelDelivery.objects.create(message=message, channel=channel)
            event_publish(DELIVERY_EVENT, {"delivery": delivery.pk}, actor=actor)
        audit_record(
            action="notify.message.send",
            actor=actor,
            target=message,
            detail={"template": template_code, "recipient": user.pk, "category": category},
        )
        messages.append(message)
    return messages


def channel_send(delivery: ChannelDelivery) -> None:
    """Send one email or SMS (run by the worker). Raises on failure: the outbox retries with
    backoff and ``channel_failed`` records the attempt."""
    if delivery.status != DeliveryState.PENDING:
        return
    message = delivery.message
    user = message.recipient
    if delivery.channel == Channel.EMAIL:
        send_mail(message.subject, message.body, None, [user.email], fail_silently=False)
    elif delivery.channel == Channel.SMS:
        text = message.sms_text or message.subject
        delivery.provider_id = str(gateway().send(str(user.mobile), text))[:100]
    delivery.attempts += 1
    delivery.status = DeliveryState.SENT
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save()
    audit_record(
        action="notify.delivery.sent",
        target=delivery,
        detail={"channel": delivery.channel, "message": message.pk},
    )


def channel_failed(*, delivery_id: int, error: str, dead: bool) -> None:
    """Record a failed attempt (the sending transaction rolled back): still pending while
    the outbox retries, failed once it gives up."""
    delivery = ChannelDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryState.PENDING:
        return
    lines = error.strip().splitlines()
    delivery.attempts += 1
    delivery.last_error = lines[-1][:2000] if lines else ""
    if dead:
        delivery.status = DeliveryState.FAILED
    delivery.save()
    audit_record(
        action="notify.delivery.failed",
        target=delivery,
        detail={"channel": delivery.channel, "attempts": delivery.attempts, "final": dead},
    )


@transaction.atomic
def message_mark_read(*, actor: Any, message: Message) -> None:
    if message.recipient_id != actor.pk:
        raise PermissionError("not the recipient")
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
        audit_record(action="notify.message.read", actor=actor, target=message)


@transaction.atomic
def messages_mark_all_read(*, actor: Any) -> int:
    count = Message.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        audit_record(
            action="notify.message.read_all", actor=actor, target=actor, detail={"count": count}
        )
    return count


@transaction.atomic
def preference_set(*, actor: Any, category: str, email: bool, sms: bool) -> Preference:
    preference, _ = Preference.objects.update_or_create(
        user=actor, category=category, defaults={"email": email, "sms": sms}
    )
    audit_record(
        action="notify.preference.set",
        actor=actor,
        target=preference,
        detail={"category": category, "email": email, "sms": sms},
    )
    return preference
