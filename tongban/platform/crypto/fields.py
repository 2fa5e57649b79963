"""Model fields that keep personal data encrypted at rest with SM4-GCM."""

from __future__ import annotations

from typing import Any

from django.db import models

from tongban.platform.crypto.sm import decrypt_text, encrypt_text


class EncryptedTextField(models.BinaryField):
    """Stores ``str`` values as SM4-GCM frames; the Python value is the plain string.

    The column is never searchable: pair it with an HMAC lookup column when records must
    be found by the value. Reading the value on screen goes through a masking helper; the
    full value is shown only by services that check a permission and write an audit entry.
    """

    description = "Text encrypted with SM4-GCM"

    def __init__(self, *args: Any, purpose: str = "pii", **kwargs: Any) -> None:
        self.purpose = purpose
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt_text(bytes(value), purpose=self.purpose)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "":
            return None if self.null else b""
        if isinstance(value, (bytes, memoryview)):
            return bytes(value)
        return encrypt_text(str(value), purpose=self.purpose)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        return connection.Database.Binary(value) if value is not None else None

    def value_to_string(self, obj: models.Model) -> str:
        return ""  # never serialise the plain value
