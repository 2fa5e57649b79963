"""Sending notifications: in-app at once, email and SMS from the worker (via the outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template import Context, Template
from django.utils import timezone

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

DEFAULT_LANGUAGE = "zh-hans"
DELIVERY_EVENT = "notify.delivery.created"

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
            code=code, language=language,
            defaults={"subject": subject, "body": body, "sms_text": sms},
        )
        created += int(was_created)
    return created


def _template_for(code: str, language: str) -> MessageTemplate:
    found = MessageTemplate.objects.filter(code=code, language=language).first()
    if found is None:
        found = MessageTemplate.objects.filter(code=code, language=DEFAULT_LANGUAGE).first()
    if found is None:
        subject, body, sms = DEFAULT_TEMPLATES.get(
            (code, language), DEFAULT_TEMPLATES[("platform.generic", DEFAULT_LANGUAGE)])
        found = MessageTemplate(code=code, language=language, subject=subject, body=body,
                                sms_text=sms)
    return found


def _render(text: str, context: dict[str, Any]) -> str:
    return Template(text).render(Context(context, autoescape=False)).strip()


def _wants(user: Any, category: str, channel: str) -> bool:
    preference = Preference.objects.filter(user=user, category=category).first()
    if preference is None:
        return True
    return bool(getattr(preference, channel))


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
    messages: list[Message] = []
    for user in recipients:
        language = user.preferred_language or DEFAULT_LANGUAGE
        template = _template_for(template_code, language)
        message = Message.objects.create(
            recipient=user, template_code=template_code, category=category,
            subject=_render(template.subject, context)[:200],
            body=_render(template.body, context), link=link,
        )
        ChannelDelivery.objects.create(message=message, channel=Channel.IN_APP,
                                       status=DeliveryState.SENT, attempts=1,
                                       sent_at=timezone.now())
        for channel, address in ((Channel.EMAIL, user.email), (Channel.SMS, user.mobile)):
            if not address or not _wants(user, category, channel):
                ChannelDelivery.objects.create(message=message, channel=channel,
                                               status=DeliveryState.SKIPPED)
                continue
            delivery = ChannelDelivery.objects.create(message=message, channel=channel)
            event_publish(DELIVERY_EVENT, {"delivery": delivery.pk}, actor=actor)
        audit_record(action="notify.message.send", actor=actor, target=message,
                     detail={"template": template_code, "recipient": user.pk})
        messages.append(message)
    return messages


def channel_send(delivery: ChannelDelivery) -> None:
    """Send one email or SMS. Raises on failure so the outbox retries with backoff."""
    if delivery.status == DeliveryState.SENT:
        return
    message = delivery.message
    user = message.recipient
    delivery.attempts += 1
    try:
        if delivery.channel == Channel.EMAIL:
            send_mail(message.subject, message.body, None, [user.email], fail_silently=False)
        elif delivery.channel == Channel.SMS:
            template = _template_for(message.template_code,
                                     user.preferred_language or DEFAULT_LANGUAGE)
            text = message.subject if not template.sms_text else message.body
            delivery.provider_id = gateway().send(str(user.mobile), text[:300])
    except Exception as error:
        ChannelDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts, status=DeliveryState.FAILED,
            last_error=f"{type(error).__name__}: {error}"[:2000])
        raise
    delivery.status = DeliveryState.SENT
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save()


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
        read_at=timezone.now())
    if count:
        audit_record(action="notify.message.read_all", actor=actor, target=actor,
                     detail={"count": count})
    return count


@transaction.atomic
def preference_set(*, actor: Any, category: str, email: bool, sms: bool) -> Preference:
    preference, _ = Preference.objects.update_or_create(
        user=actor, category=category, defaults={"email": email, "sms": sms})
    audit_record(action="notify.preference.set", actor=actor, target=preference,
                 detail={"category": category, "email": email, "sms": sms})
    return preference
