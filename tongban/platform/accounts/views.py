"""Login, logout, second factor, registration, security settings, acting for a legal person."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.platform.access.decorators import public, signed_in
from tongban.platform.accounts import services
from tongban.platform.accounts.forms import (
    LoginForm,
    NewTokenForm,
    PasswordChangeForm,
    RegisterForm,
    SignatureForm,
    SM2KeyForm,
    TokenForm,
)
from tongban.platform.accounts.middleware import ACTING_FOR_SESSION_KEY
from tongban.platform.accounts.models import AccessToken, AgentAuthorisation, SM2Device
from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes calls this (request, original_response, credentials) once an account is
    locked: a page in the user's language, status 429, and an audit entry."""
    from axes.helpers import get_client_username

    username = str(get_client_username(request, credentials) or "")[:150]
    with transaction.atomic():
        audit_record(
            action="accounts.login.locked",
            outcome=Outcome.DENIED,
            object_type="accounts.user",
            object_label=username,
            detail={"username": username},
        )
    return render(request, "accounts/locked.html", status=429)


def _home_for(user: Any) -> str:
    return "/workbench/" if user.kind == "staff" else "/me/"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class TongbanLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.GET.get("expired") == "1"
        return context

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user: Any = form.get_user()
        with transaction.atomic():
            response = super().form_valid(form)
            services.login_record(
                user=user, request=self.request, success=True, username=user.get_username()
            )
        if user.mfa_required:
            # The password was the first factor; the second comes next, keeping ?next=.
            target = reverse("accounts:mfa")
            wanted = self.get_redirect_url()
            if wanted:
                target += "?" + urlencode({"next": wanted})
            return HttpResponseRedirect(target)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        services.login_record(
            user=None,
            request=self.request,
            success=False,
            username=str(form.data.get("username", ""))[:150],
        )
        return super().form_invalid(form)

    def get_default_redirect_url(self) -> str:
        return _home_for(self.request.user)


login_view = public(TongbanLoginView.as_view())


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.is_authenticated:
        audit_record(action="accounts.logout", actor=user, target=user)
    logout(request)
    return redirect("accounts:login")


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def _confirmed_sm2(user: Any) -> SM2Device | None:
    return SM2Device.objects.devices_for_user(user, confirmed=True).first()


def _sm2_only(user: Any) -> bool:
    """Whether the user's second factor must be the UKey (``TONGBAN_MFA_SM2_ONLY``: the
    roles that need a second factor may not use a TOTP authenticator)."""
    if not settings.TONGBAN_MFA_SM2_ONLY:
        return False
    from tongban.platform.access.services import user_requires_mfa

    return bool(user.admin_role) or user_requires_mfa(user)


def _try_second_factor(request: HttpRequest, device: Any, token: str, method: str) -> bool:
    """Verify ``token`` on ``device``; on success the session passes its second factor.
    Both outcomes are audited."""
    user: Any = request.user
    if device.verify_token(token):
        otp_login(request, device)
        audit_record(
            action="accounts.mfa.verify", actor=user, target=user, detail={"method": method}
        )
        return True
    audit_record(
        action="accounts.mfa.verify",
        actor=user,
        target=user,
        outcome=Outcome.FAILURE,
        detail={"method": method},
    )
    return False


@signed_in
def mfa_view(request: HttpRequest) -> HttpResponse:
    """Second step of login: a TOTP code from the user's authenticator, or the SM2
    signature of a one-time challenge made by the user's UKey (智能密码钥匙)."""
    user: Any = request.user
    device = None if _sm2_only(user) else _confirmed_device(user)
    sm2_device = _confirmed_sm2(user)
    if device is None and sm2_device is None:
        return redirect("accounts:mfa_sm2" if _sm2_only(user) else "accounts:mfa_setup")
    posted = request.POST if request.method == "POST" else None
    by_sm2 = posted is not None and posted.get("method") == "sm2" and sm2_device is not None
    form = TokenForm(None if by_sm2 else posted) if device is not None else None
    sm2_form = SignatureForm(posted if by_sm2 else None, prefix="sm2") if sm2_device else None
    if by_sm2 and sm2_form is not None and sm2_form.is_valid():
        if _try_second_factor(request, sm2_device, sm2_form.cleaned_data["signature"], "sm2"):
            return HttpResponseRedirect(_safe_next(request, _home_for(user)))
        sm2_form.add_error("signature", _("签名验证失败或挑战已过期，请对新的挑战重新签名"))
    elif posted is not None and form is not None and form.is_valid():
        if _try_second_factor(request, device, form.cleaned_data["otp_token"], "totp"):
            return HttpResponseRedirect(_safe_next(request, _home_for(user)))
        form.add_error("otp_token", _("验证码不正确或已过期"))
    challenge = sm2_device.generate_challenge() if sm2_device else ""
    return render(
        request,
        "accounts/mfa.html",
        {
            "form": form,
            "sm2_form": sm2_form,
            "challenge": challenge,
            "next": request.GET.get("next"),
        },
    )


@signed_in
def mfa_sm2_view(request: HttpRequest) -> HttpResponse:
    """Bind the SM2 public key of a UKey as a second factor: paste the key, then sign the
    challenge shown with the UKey. A user who already has a second factor must pass it
    first (a stolen password must not be enough to bind the thief's key)."""
    user: Any = request.user
    has_factor = _confirmed_device(user) is not None or _confirmed_sm2(user) is not None
    if has_factor and not user.is_verified():
        return redirect("accounts:mfa")
    pending = SM2Device.objects.filter(user=user, confirmed=False).first()
    key_form = SM2KeyForm(prefix="key")
    sm2_form = SignatureForm(prefix="sm2")
    if request.method == "POST" and request.POST.get("action") == "key":
        key_form = SM2KeyForm(request.POST, prefix="key")
        if key_form.is_valid():
            try:
                pending = services.sm2_device_enrol(
                    actor=user,
                    public_key_pem=key_form.cleaned_data["public_key_pem"],
                    name=key_form.cleaned_data["name"],
                )
            except ValidationError as error:
                for problem in error.message_dict.get("public_key_pem", []):
                    key_form.add_error("public_key_pem", problem)
            else:
                key_form = SM2KeyForm(prefix="key")
    elif request.method == "POST" and request.POST.get("action") == "confirm" and pending:
        sm2_form = SignatureForm(request.POST, prefix="sm2")
        if sm2_form.is_valid():
            if services.sm2_device_confirm(
                actor=user, device=pending, signature=sm2_form.cleaned_data["signature"]
            ):
                otp_login(request, pending)
                messages.success(request, _("SM2证书已绑定，登录时可用证书签名完成双因素认证"))
                return redirect("accounts:security")
            pending.refresh_from_db()
            sm2_form.add_error("signature", _("签名验证失败，请对新的挑战重新签名"))
    if pending is not None and not pending.challenge:
        pending.generate_challenge()
    return render(
        request,
        "accounts/mfa_sm2.html",
        {
            "key_form": key_form,
            "sm2_form": sm2_form,
            "pending": pending,
            "challenge": pending.challenge_text() if pending else "",
            "bound": _confirmed_sm2(user),
        },
    )


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


@signed_in
def mfa_setup_view(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: show the QR code and secret, confirm with a code.

    A user who already has a confirmed device must pass it first: otherwise a stolen
    password would be enough to enrol the thief's own authenticator.
    """
    user: Any = request.user
    if _sm2_only(user):
        return redirect("accounts:mfa_sm2")
    if _confirmed_device(user) is not None and not user.is_verified():
        return redirect("accounts:mfa")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["otp_token"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user, confirmed=True).delete()
                device.confirmed = True
                device.save()
                user.mfa_enabled = True
                user.save(update_fields=["mfa_enabled"])
                audit_record(action="accounts.mfa.enable", actor=user, target=user)
            otp_login(request, device)
            messages.success(request, _("双因素认证已启用"))
            return redirect(_home_for(user))
        audit_record(action="accounts.mfa.enable", actor=user, target=user, outcome=Outcome.FAILURE)
        form.add_error("otp_token", _("验证码不正确或已过期"))
    context = {
        "form": form,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - SVG we generated
        "secret": base64.b32encode(device.bin_key).decode("ascii").rstrip("="),
    }
    return render(request, "accounts/mfa_setup.html", context)


@public
def register_view(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.citizen_register(**form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, _("注册成功，请登录"))
            return redirect("accounts:login")
    return render(request, "accounts/register.html", {"form": form})


@signed_in
def password_change_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(actor=user, **form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改"))
            return redirect("accounts:security")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "reason": services.password_change_reason(user),
            "max_age_days": settings.TONGBAN_PASSWORD_MAX_AGE_DAYS,
        },
    )


@signed_in
def security_view(request: HttpRequest) -> HttpResponse:
    """Password, second factor and personal access tokens of the signed-in user."""
    user: Any = request.user
    token_form = NewTokenForm(prefix="tk")
    new_secret = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "token":
            token_form = NewTokenForm(request.POST, prefix="tk")
            if token_form.is_valid():
                try:
                    _token, new_secret = services.token_create(
                        actor=user,
                        user=user,
                        name=token_form.cleaned_data["name"],
                        expires_at=token_form.cleaned_data.get("expires_at"),
                    )
                except ValidationError as error:
                    for field, problems in error.message_dict.items():
                        for problem in problems:
                            token_form.add_error(
                                field if field in token_form.fields else None, problem
                            )
                else:
                    token_form = NewTokenForm(prefix="tk")
        elif action == "revoke":
            token = get_object_or_404(
                AccessToken, pk=request.POST.get("token"), user=user, revoked_at__isnull=True
            )
            services.token_revoke(actor=user, token=token)
            messages.success(request, _("令牌已撤销"))
            return redirect("accounts:security")
    context = {
        "password_form": PasswordChangeForm(),
        "token_form": token_form,
        "new_secret": new_secret,
        "tokens": AccessToken.objects.filter(user=user, revoked_at__isnull=True),
        "has_device": _confirmed_device(user) is not None or _confirmed_sm2(user) is not None,
        "has_sm2": _confirmed_sm2(user) is not None,
        "may_create_tokens": not user.admin_role,
    }
    return render(request, "accounts/security.html", context)


@signed_in
def act_for_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    authorisations = [
        item
        for item in AgentAuthorisation.objects.filter(
            agent=user, revoked_at__isnull=True
        ).select_related("legal_person")
        if item.is_live()
    ]
    if request.method == "POST":
        chosen = request.POST.get("authorisation", "")
        if chosen == "":
            request.session.pop(ACTING_FOR_SESSION_KEY, None)
            audit_record(action="accounts.act_for.clear", actor=user, target=user)
            messages.success(request, _("已切换为以个人身份办事"))
        else:
            match = next((a for a in authorisations if str(a.pk) == chosen), None)
            if match is None:
                messages.error(request, _("没有该企业的有效授权"))
            else:
                request.session[ACTING_FOR_SESSION_KEY] = match.pk
                audit_record(
                    action="accounts.act_for.start",
                    actor=user,
                    target=match,
                    detail={"legal_person": match.legal_person.uscc},
                )
                messages.success(
                    request, _("已切换为代理 %(name)s 办事") % {"name": match.legal_person.name}
                )
        return redirect("accounts:act_for")
    return render(
        request,
        "accounts/act_for.html",
        {
            "authorisations": authorisations,
            "current": request.session.get(ACTING_FOR_SESSION_KEY),
            "nav_active": "personal",
        },
    )
