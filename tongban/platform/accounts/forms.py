from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。连续失败5次将锁定15分钟。"),
        "inactive": _("该账号已停用"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})


class SignatureForm(forms.Form):
    signature = forms.CharField(
        label=_("证书签名"),
        max_length=400,
        help_text=_(
            "用智能密码钥匙（UKey）对上面的挑战文本做SM2签名，粘贴签名（十六进制或Base64）"
        ),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )


class SM2KeyForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=64, required=False)
    public_key_pem = forms.CharField(
        label=_("SM2公钥（PEM）"),
        max_length=2000,
        help_text=_("从智能密码钥匙（UKey）管理工具导出的公钥，以 -----BEGIN PUBLIC KEY----- 开头"),
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
    )


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("动态验证码"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class RegisterForm(forms.Form):
    username = forms.RegexField(
        label=_("用户名"),
        regex=r"^[A-Za-z0-9_.@-]{3,40}$",
        error_messages={"invalid": _("用户名为3至40位字母、数字或 _ . @ -")},
    )
    password = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    name = forms.CharField(label=_("真实姓名"), max_length=50)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=18, min_length=18)
    mobile = forms.RegexField(
        label=_("手机号码"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("请输入11位手机号码")},
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class NewTokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=100)
    expires_at = forms.DateTimeField(
        label=_("过期时间"),
        required=False,
        help_text=_("可不填；格式如 2026-12-31 23:59"),
        error_messages={"invalid": _("请输入有效的日期时间，如 2026-12-31 23:59")},
    )
