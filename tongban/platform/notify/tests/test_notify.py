from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from tongban.platform.events.models import Delivery as OutboxDelivery
from tongban.platform.events.models import DeliveryStatus
from tongban.platform.events.services import delivery_run
from tongban.platform.notify.models import (
    Channel,
    ChannelDelivery,
    DeliveryState,
    Message,
    MessageTemplate,
    Preference,
)
from tongban.platform.notify.services import notify_seed_templates, notify_send

SENT_SMS: list[tuple[str, str]] = []
SMS_FAILURES = {"left": 0}


class FlakyGateway:
    """Stands in for the carrier: fails while ``SMS_FAILURES["left"]`` is positive."""

    def send(self, mobile: str, text: str) -> str:
        if SMS_FAILURES["left"] > 0:
            SMS_FAILURES["left"] -= 1
            raise ConnectionError("gateway unavailable")
        SENT_SMS.append((mobile, text))
        return f"sms-{len(SENT_SMS)}"


@pytest.fixture(autouse=True)
def _gateway(settings):
    settings.TONGBAN_SMS_GATEWAY = f"{__name__}.FlakyGateway"
    SENT_SMS.clear()
    SMS_FAILURES["left"] = 0


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, **fields: Any) -> Any:
        mobile = fields.pop("mobile", "")
        user = django_user_model.objects.create_user(
            username=username, password="x", display_name=username, kind="public", **fields
        )
        if mobile:
            user.set_mobile(mobile)
            user.save()
        return user

    return make


def channel(message: Message, name: str) -> ChannelDelivery:
    return message.deliveries.get(channel=name)


@pytest.mark.django_db
def test_messages_are_rendered_in_each_recipients_language(make_user):
    assert notify_seed_templates() == 8
    assert notify_seed_templates() == 0  # idempotent
    chinese = make_user("li", preferred_language="zh-hans")
    english = make_user("smith", preferred_language="en")
    unknown = make_user("x", preferred_language="fr")
    context = {"city": "示范市", "name": "李雷", "username": "li"}
    zh, en, fallback = notify_send(
        recipients=[chinese, english, unknown], template_code="platform.welcome", context=context
    )
    assert zh.subject == "欢迎使用示范市一体化政务服务平台"
    assert zh.body == "李雷，您好！您的账号 li 已开通。"
    assert en.subject == "Welcome to the 示范市 government service platform"
    assert en.body == "Hello 李雷, your account li is ready."
    assert fallback.subject == zh.subject


@pytest.mark.django_db
def test_an_edited_template_is_used_and_a_broken_one_falls_back(make_user):
    user = make_user("li")
    MessageTemplate.objects.create(
        code="platform.mfa_enabled",
        language="zh-hans",
        subject="已为 {{ username }} 开启",
        body="正文",
        sms_text="",
    )
    [message] = notify_send(
        recipients=[user], template_code="platform.mfa_enabled", context={"username": "li"}
    )
    assert message.subject == "已为 li 开启"
    MessageTemplate.objects.filter(code="platform.mfa_enabled").update(subject="{% if %}")
    [message] = notify_send(
        recipients=[user], template_code="platform.mfa_enabled", context={"username": "li"}
    )
    assert message.subject == "双因素认证已启用"


@pytest.mark.django_db
def test_email_is_sent_by_the_worker_after_commit(make_user, django_capture_on_commit_callbacks):
    user = make_user("li", email="li@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        [message] = notify_send(
            recipients=[user],
            template_code="platform.generic",
            context={"subject": "材料已受理", "body": "您的申请已受理。"},
        )
        assert mail.outbox == []  # nothing leaves before commit
    assert [(email.subject, email.body, email.to) for email in mail.outbox] == [
        ("材料已受理", "您的申请已受理。", ["li@example.cn"])
    ]
    email = channel(message, Channel.EMAIL)
    assert (email.status, email.attempts) == (DeliveryState.SENT, 1)
    assert email.sent_at is not None
    assert channel(message, Channel.IN_APP).status == DeliveryState.SENT
    sms = channel(message, Channel.SMS)
    assert (sms.status, sms.last_error) == (DeliveryState.SKIPPED, "no sms address")


@pytest.mark.django_db
def test_an_sms_failure_is_recorded_and_the_retry_succeeds(
    make_user, django_capture_on_commit_callbacks
):
    user = make_user("li", mobile="13800138000")
    SMS_FAILURES["left"] = 1
    with django_capture_on_commit_callbacks(execute=True):
        [message] = notify_send(
            recipients=[user],
            template_code="platform.account_locked",
            context={"username": "li"},
        )
    sms = channel(message, Channel.SMS)
    assert (sms.status, sms.attempts) == (DeliveryState.PENDING, 1)
    assert sms.last_error == "ConnectionError: gateway unavailable"
    outbox = OutboxDelivery.objects.get(event__payload__delivery=sms.pk)
    assert outbox.status == DeliveryStatus.PENDING
    assert outbox.attempts == 1
    assert outbox.next_attempt_at > outbox.event.occurred_at

    assert delivery_run(outbox.pk) == "done"  # the deferred retry runs

    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_id) == (DeliveryState.SENT, 2, "sms-1")
    assert SENT_SMS == [("13800138000", "【政务服务】您的账号因多次登录失败已被临时锁定。")]


@pytest.mark.django_db
def test_an_sms_that_never_gets_through_is_marked_failed(
    make_user, settings, django_capture_on_commit_callbacks
):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 2
    user = make_user("li", mobile="13800138000")
    SMS_FAILURES["left"] = 5
    with django_capture_on_commit_callbacks(execute=True):
        [message] = notify_send(
            recipients=[user],
            template_code="platform.generic",
            context={"subject": "s", "body": "b"},
        )
    outbox = OutboxDelivery.objects.get(event__payload__delivery=channel(message, "sms").pk)
    assert delivery_run(outbox.pk) == "dead"
    sms = channel(message, Channel.SMS)
    assert (sms.status, sms.attempts, SENT_SMS) == (DeliveryState.FAILED, 2, [])


@pytest.mark.django_db
def test_a_channel_turned_off_is_not_sent(make_user, django_capture_on_commit_callbacks):
    user = make_user("li", email="li@example.cn", mobile="13800138000")
    Preference.objects.create(user=user, category="security", email=True, sms=False)
    with django_capture_on_commit_callbacks(execute=True):
        [message] = notify_send(
            recipients=[user],
            template_code="platform.account_locked",
            context={"username": "li"},
            category="security",
        )
    sms = channel(message, Channel.SMS)
    assert (sms.status, sms.last_error) == (DeliveryState.SKIPPED, "preference off")
    assert SENT_SMS == []
    assert channel(message, Channel.EMAIL).status == DeliveryState.SENT
    assert OutboxDelivery.objects.count() == 1  # the email only


@pytest.mark.django_db
def test_a_link_must_be_a_site_path_or_http(make_user):
    user = make_user("li")
    with pytest.raises(ValueError, match="link"):
        notify_send(
            recipients=[user],
            template_code="platform.generic",
            context={},
            link="javascript:alert(1)",
        )
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_the_inbox_shows_only_my_messages_unread_first(client, make_user):
    me, other = make_user("me"), make_user("other")
    [old] = notify_send(
        recipients=[me],
        template_code="platform.generic",
        context={"subject": "旧消息", "body": "b"},
    )
    [new] = notify_send(
        recipients=[me],
        template_code="platform.generic",
        context={"subject": "新消息", "body": "b"},
    )
    [theirs] = notify_send(
        recipients=[other],
        template_code="platform.generic",
        context={"subject": "别人的消息", "body": "b"},
    )
    Message.objects.filter(pk=new.pk).update(read_at=old.created_at)
    client.force_login(me)

    page = client.get(reverse("notify:inbox")).content.decode()

    assert "别人的消息" not in page
    assert page.index("旧消息") < page.index("新消息")  # unread first
    assert f'<strong><a href="/notifications/{old.pk}/">旧消息</a></strong>' in page
    assert '<span class="badge" aria-label="1条未读">1</span>' in page
    assert client.get(reverse("notify:detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notify:mark_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_the_inbox_needs_a_signed_in_user(client):
    response = client.get(reverse("notify:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_mark_read_by_htmx_post_and_mark_all(client, make_user):
    me = make_user("me")
    first, second, third = (
        notify_send(
            recipients=[me],
            template_code="platform.generic",
            context={"subject": f"消息{n}", "body": "b"},
        )[0]
        for n in range(3)
    )
    client.force_login(me)
    assert client.get(reverse("notify:mark_read", args=[first.pk])).status_code == 405

    response = client.post(reverse("notify:mark_read", args=[first.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.content.decode().startswith(f'<tr id="message-{first.pk}">')
    assert "已读" in response.content.decode()
    first.refresh_from_db()
    assert first.read_at is not None
    assert Message.objects.filter(recipient=me, read_at__isnull=True).count() == 2

    response = client.post(reverse("notify:mark_all_read"))

    assert response.status_code == 302
    assert Message.objects.filter(recipient=me, read_at__isnull=True).count() == 0
    page = client.get(reverse("notify:inbox")).content.decode()
    assert 'class="badge"' not in page


@pytest.mark.django_db
def test_mark_read_is_csrf_protected(make_user):
    from django.test import Client

    me = make_user("me")
    [message] = notify_send(recipients=[me], template_code="platform.generic", context={})
    client = Client(enforce_csrf_checks=True)
    client.force_login(me)
    assert client.post(reverse("notify:mark_read", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.read_at is None


@pytest.mark.django_db
def test_preferences_page_saves_each_category(client, make_user):
    me = make_user("me")
    client.force_login(me)
    page = client.get(reverse("notify:preferences")).content.decode()
    assert 'name="security-sms" checked' in page

    response = client.post(
        reverse("notify:preferences"),
        {"general-email": "on", "general-sms": "on", "security-email": "on"},
    )

    assert response.status_code == 302
    saved = {p.category: (p.email, p.sms) for p in Preference.objects.filter(user=me)}
    # applications register categories of their own: each gets a row, unticked here
    assert {key: saved[key] for key in ("general", "security")} == {
        "general": (True, True),
        "security": (True, False),
    }
    assert all(
        value == (False, False)
        for key, value in saved.items()
        if key not in {"general", "security"}
    )
    page = client.get(reverse("notify:preferences")).content.decode()
    assert 'name="security-sms" >' in page
