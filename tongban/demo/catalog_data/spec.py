"""The compact shape the catalogue tables are written in, expanded by ``tongban.demo.catalog``.

Materials are strings: ``"居民身份证"`` (the applicant brings it), ``"s:居民户口簿"`` (taken
from shared data), ``"e:营业执照"`` (taken from the e-licence library), ``"g:…"`` (issued by
another department) and ``"?授权委托书|委托他人办理的"`` (only when the condition holds).
Legal bases are ``(key of vocab.LEGAL_BASES, article)``.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPE = {
    "许可": "licensing",
    "确认": "confirmation",
    "裁决": "adjudication",
    "给付": "benefit",
    "奖励": "reward",
    "备案": "filing",
    "其他": "other_power",
    "公共": "public_service",
}

LICENCE_FAMILY = ("新办", "变更", "延续", "补证", "注销")


@dataclass(frozen=True)
class Spec:
    key: str
    dept: str
    name: str
    kind: str  # a key of TYPE
    result: str
    materials: tuple[str, ...]
    bases: tuple[tuple[str, str], ...]
    legal: int = 20
    promised: int = 10  # 0: 即办件
    visits: int = 1
    depth: int = 3
    audience: str = "person"  # person, enterprise, both
    conditions: str = ""
    scope: str = ""
    themes: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    keywords: str = ""
    fee: tuple[str, str] | None = None  # (amount, basis text)
    power: str = ""
    children: tuple[str, ...] = ()  # handling items 001… (e.g. LICENCE_FAMILY)
    form: str = ""
    special: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # district counterparts also implementing it
    level: str = "city"
