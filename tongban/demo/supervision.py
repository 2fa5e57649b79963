"""The demo city's supervision (电子监察): roles, intake sources, a year of alerts, cards
and corrections, a ranking with spread.

Runs after the approvals demo (``loader.load_demo_city``):

1. grants the supervision permissions (``roles.grant_supervision_permissions``) and gives
   ``sysadmin`` the intake-source role;
2. registers the approvals source and the 12345 hotline (its key is printed once);
3. backfills the approvals history through ``supervision.backfill`` (the history cases
   publish no events) and runs the clock sweep at "now", so running cases get their
   prompts and cards;
4. plays the year's correction work through the real correction services, in time order:
   most departments explain within the deadline and the supervisor accepts; some explain
   late; some explanations are rejected and explained again; some items are left open so
   the weekly escalation turns yellow cards into red cards. Departments differ in how
   diligent they are (seeded), which gives the ranking its spread. The last days' items
   stay open or awaiting a verdict, so the inbox and the supervisor have work.

Idempotent: step 4 and the backfill run once (an audit entry marks them); roles and
sources are get-or-create.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils import timezone

from tongban.apps.supervision import backfill, corrections, services, sources
from tongban.apps.supervision.models import (
    Alert,
    AlertKind,
    Correction,
    CorrectionState,
    Source,
)
from tongban.demo.roles import grant_supervision_permissions
from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.services import get_calendar

logger = logging.getLogger(__name__)

MARKER = "demo.supervision"
BEIJING = ZoneInfo("Asia/Shanghai")
HOTLINE = ("hotline-12345", "12345政务服务便民热线")
SOURCE_ROLE = ("supervision_source_admin", "监察接入系统管理员")
RECENT_DAYS = 10  # items opened in the last days are left for the demo's users

EXPLANATIONS = (
    "经核查，该件因申请人补充现场材料延误，已督促承办人加快办理并办结。",
    "已对承办人进行提醒谈话，完善了内部时限预警，后续严格按承诺时限办理。",
    "该环节因系统故障未及时流转，已恢复并补办，今后加强日常巡检。",
    "已向申请人说明情况并致歉，对相关科室进行通报，落实整改措施。",
)
REJECTIONS = ("说明过于笼统，请补充具体整改措施及责任人。", "未附整改佐证材料，请补充后重新提交。")
ACCEPT_NOTE = "整改措施具体可行，予以采纳。"


@dataclass
class SupervisionSummary:
    counts: dict[str, int] = field(default_factory=dict)
    hotline_key: str = ""
    seconds: float = 0.0


def _moment(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BEIJING)


def _source_admin() -> User | None:
    user = User.objects.filter(username="sysadmin").first()
    if user is None:
        return None
    role, _created = Role.objects.update_or_create(
        code=SOURCE_ROLE[0], defaults={"name": SOURCE_ROLE[1], "requires_mfa": True}
    )
    role.permissions.add(*Permission.objects.filter(code="supervision.source.manage"))
    RoleAssignment.objects.get_or_create(user=user, role=role, defaults={"scope": Scope.ALL})
    return user


def _sources(admin: User | None) -> str:
    sources.approvals_source()
    if admin is None or Source.objects.filter(code=HOTLINE[0]).exists():
        return ""
    _source, key = sources.source_create(actor=admin, code=HOTLINE[0], name=HOTLINE[1])
    return key


class _Play:
    """The year's correction work, played in time order through the services."""

    def __init__(self, now: dt.datetime, seed: int = 2026) -> None:
        self.now = now
        self.today = timezone.localdate(now)
        self.rng = random.Random(seed)  # noqa: S311 - deterministic demo data
        self.calendar = get_calendar()
        self.supervisor = User.objects.get(username="supervisor")
        self.leaders: dict[int, User] = {}
        self.diligence: dict[int, float] = {}
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.order = 0
        self.seen: set[int] = set()
        self.counts: Counter[str] = Counter()
        self.last_id = 0
        self.current = now
        self.explained = 0

    def leader(self, department_id: int, code: str) -> User | None:
        if department_id not in self.leaders:
            prefix = code.lower().replace("-", "")
            user = User.objects.filter(username=f"{prefix}_d01").first()
            if user is None:
                return None
            self.leaders[department_id] = user
        return self.leaders[department_id]

    def at(self, moment: dt.datetime, action: Callable[[], None]) -> None:
        if moment < self.now:
            self.order += 1
            heapq.heappush(self.queue, (moment, self.order, action))

    def workday(self, start: dt.datetime | dt.date, days: int, hour: int = 10) -> dt.datetime:
        return _moment(self.calendar.add_working_days(start, days), hour, self.rng.randrange(60))

    def plan(self, item: Correction) -> None:
        """Decide what the department does with one item, and when."""
        if item.pk in self.seen:
            return
        self.seen.add(item.pk)
        alert = item.alert
        leader = self.leader(item.department_id, alert.department.code)
        if leader is None:
            return
        opened = alert.raised_at  # (a backfilled item is opened "now", dated its alert's day)
        if (self.today - timezone.localdate(opened)).days <= RECENT_DAYS:
            # recent: half explained and waiting for the supervisor, half still open
            if self.rng.random() < 0.5:
                self.at(self.workday(opened, 1, 15), lambda: self.explain(item, leader))
            return
        diligence = self.diligence.setdefault(item.department_id, self.rng.uniform(0.55, 0.98))
        roll = self.rng.random()
        if roll > diligence + 0.02 and alert.kind == AlertKind.YELLOW_CARD:
            return  # left open: the escalation makes it a red card
        explained = self.workday(opened, 1 if roll < diligence * 0.8 else 2, 15)
        if roll > diligence:
            # late: after the due day (the hourly escalation may come first)
            explained = self.workday(item.due_on, self.rng.choice((1, 2)), 9)
        self.at(explained, lambda: self.explain(item, leader))
        verdict = self.workday(explained, 1, 11)
        self.explained += 1
        if self.explained % 8 == 2:  # one explanation in eight is sent back once
            self.at(verdict, lambda: self.reject(item))
            again = self.workday(verdict, 1, 16)
            self.at(again, lambda: self.explain(item, leader))
            self.at(self.workday(again, 1, 11), lambda: self.accept(item))
        else:
            self.at(verdict, lambda: self.accept(item))

    def recent(self) -> bool:
        return self.now - self.current <= dt.timedelta(days=RECENT_DAYS)

    def explain(self, item: Correction, leader: User) -> None:
        fresh = Correction.objects.select_related("alert").get(pk=item.pk)
        if fresh.state != CorrectionState.OPEN and not (
            fresh.state == CorrectionState.ESCALATED and fresh.alert.kind != AlertKind.YELLOW_CARD
        ):
            return
        corrections.correction_explain(
            actor=leader,
            correction=fresh,
            text=self.rng.choice(EXPLANATIONS),
            rectified=self.rng.random() < 0.6,
            now=self.current,
        )
        self.counts["explained"] += 1

    def accept(self, item: Correction) -> None:
        fresh = Correction.objects.get(pk=item.pk)
        if fresh.state != CorrectionState.EXPLAINED:
            return
        corrections.correction_accept(
            actor=self.supervisor, correction=fresh, note=ACCEPT_NOTE, now=self.current
        )
        self.counts["accepted"] += 1

    def reject(self, item: Correction) -> None:
        fresh = Correction.objects.get(pk=item.pk)
        if fresh.state != CorrectionState.EXPLAINED:
            return
        corrections.correction_reject(
            actor=self.supervisor,
            correction=fresh,
            reason=self.rng.choice(REJECTIONS),
            now=self.current,
            notify=self.recent(),
        )
        self.counts["rejected"] += 1

    def escalate(self) -> None:
        self.counts["escalated"] += corrections.corrections_escalate(
            now=self.current, notify=self.recent()
        )
        for item in self.open_items(since_id=self.last_id):
            self.plan(item)

    def open_items(self, since_id: int = 0) -> list[Correction]:
        items = list(
            Correction.objects.select_related("alert__department")
            .filter(state=CorrectionState.OPEN, pk__gt=since_id)
            .order_by("pk")
        )
        if items:
            self.last_id = max(self.last_id, items[-1].pk)
        return items

    def run(self) -> Counter[str]:
        self.last_id = 0
        self.current = self.now
        items = self.open_items()
        for item in items:
            self.plan(item)
        if items:
            # the hourly escalation, sampled every Monday morning
            first = min(item.alert.raised_at for item in items)
            day = timezone.localdate(first)
            day += dt.timedelta(days=(7 - day.weekday()) % 7 or 7)
            while _moment(day, 2) < self.now:
                self.at(_moment(day, 2), self.escalate)
                day += dt.timedelta(days=7)
        # the year is played quietly (nobody wants a year of old notices in the inbox);
        # the last days notify as usual
        while self.queue:
            moment, _order, action = heapq.heappop(self.queue)
            self.current = moment
            action()
        self.current = self.now
        self.escalate()
        return self.counts


def load_demo_supervision(*, now: dt.datetime | None = None) -> SupervisionSummary:
    """See the module doc. Call inside the demo loader's transaction."""
    started = time.perf_counter()
    now = now or timezone.now()
    grant_supervision_permissions()
    admin = _source_admin()
    key = _sources(admin)
    summary = SupervisionSummary(hotline_key=key)
    if AuditEntry.objects.filter(action=MARKER).exists():
        summary.seconds = time.perf_counter() - started
        return summary
    services.forget_org_cache()
    result = backfill.backfill_approvals(now=now)
    swept = services.clock_sweep(now=now)
    played = _Play(now).run() if User.objects.filter(username="supervisor").exists() else Counter()
    kinds = Counter(Alert.objects.values_list("kind", flat=True))
    states = Counter(Correction.objects.values_list("state", flat=True))
    counts = {
        "supervision_cases": result.cases,
        "supervision_events": result.accepted,
        "supervision_rejected": result.rejected,
        **{f"supervision_rejected_{code}": count for code, count in result.reasons.items()},
        "supervision_swept": swept,
        "supervision_alerts": sum(kinds.values()),
        **{f"supervision_alert_{kind}": count for kind, count in sorted(kinds.items())},
        **{f"supervision_correction_{state}": count for state, count in sorted(states.items())},
        **{f"supervision_played_{name}": count for name, count in sorted(played.items())},
    }
    audit_record(
        action=MARKER, object_type="demo.supervision", object_label="示范市电子监察", detail=counts
    )
    summary.counts = counts
    summary.seconds = time.perf_counter() - started
    logger.info("demo supervision: %s in %.1fs", counts, summary.seconds)
    return summary
