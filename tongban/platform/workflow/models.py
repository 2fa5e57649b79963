"""Process definitions (immutable versions of a BPMN file), running instances and the work
items (``WorkTask``) people see in their inbox.

The engine's own state is the SpiffWorkflow task tree serialised as JSON in
``ProcessInstance.state`` (without the spec, which is compiled from the definition). The
``WorkTask`` rows mirror the engine's ready user tasks so inboxes are plain indexed queries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ProcessDefinition(models.Model):
    """One version of a process. Versions are never changed after they are written."""

    key = models.CharField(_("流程标识"), max_length=100)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=200)
    xml = models.TextField(_("BPMN 文件"))
    sha = models.CharField(_("SM3 摘要"), max_length=64, db_index=True)
    process_id = models.CharField(_("运行的流程 id"), max_length=100)
    task_map = models.JSONField(
        _("任务映射"), default=dict, help_text=_("每个人工任务的角色、办理部门/科室/岗位和时限")
    )
    lane_map = models.JSONField(_("泳道映射"), default=dict)
    is_generated = models.BooleanField(_("系统生成"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("流程定义")
        verbose_name_plural = _("流程定义")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="workflow_definition_version")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.key} v{self.version}）"


class ProcessInstance(models.Model):
    definition = models.ForeignKey(
        ProcessDefinition,
        verbose_name=_("流程定义"),
        on_delete=models.PROTECT,
        related_name="instances",
    )
    subject = models.CharField(_("业务对象"), max_length=200, db_index=True)
    state = models.JSONField(_("引擎状态"), default=dict)
    is_finished = models.BooleanField(_("已结束"), default=False)
    is_cancelled = models.BooleanField(_("已撤销"), default=False)
    cancel_reason = models.TextField(_("撤销原因"), blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("流程实例")
        verbose_name_plural = _("流程实例")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} · {self.definition_id}#{self.pk}"


class WorkTaskState(models.TextChoices):
    READY = "ready", _("待签收")
    CLAIMED = "claimed", _("已签收")
    COMPLETED = "completed", _("已办结")
    CANCELLED = "cancelled", _("已取消")


OPEN_TASK_STATES = (WorkTaskState.READY, WorkTaskState.CLAIMED)


class TaskOutcome(models.TextChoices):
    NONE = "", _("—")
    DONE = "done", _("办结")
    RETURNED = "returned", _("退回")
    WITHDRAWN = "withdrawn", _("撤回")


class WorkTask(models.Model):
    """A person's piece of work: one ready user task of an instance."""

    instance = models.ForeignKey(
        ProcessInstance, verbose_name=_("流程实例"), on_delete=models.CASCADE, related_name="tasks"
    )
    engine_task_id = models.UUIDField(_("引擎任务 id"))
    spec_id = models.CharField(_("任务 id"), max_length=100)
    name = models.CharField(_("名称"), max_length=200)
    role = models.CharField(_("角色"), max_length=60, blank=True)
    lane = models.CharField(_("泳道"), max_length=200, blank=True)
    department_code = models.CharField(_("部门编码"), max_length=32, blank=True)
    unit_code = models.CharField(_("科室编码"), max_length=40, blank=True)
    position_code = models.CharField(_("岗位编码"), max_length=40, blank=True)
    due_days = models.PositiveSmallIntegerField(_("时限（工作日）"), default=0)
    state = models.CharField(
        _("状态"), max_length=10, choices=WorkTaskState.choices, default=WorkTaskState.READY
    )
    outcome = models.CharField(
        _("结果"), max_length=10, choices=TaskOutcome.choices, default=TaskOutcome.NONE, blank=True
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("到达时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    data = models.JSONField(_("办理数据"), default=dict, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("待办任务")
        verbose_name_plural = _("待办任务")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "engine_task_id"],
                condition=Q(state__in=["ready", "claimed"]),
                name="workflow_task_one_open_row",
            ),
            models.CheckConstraint(
                condition=~Q(state="claimed") | Q(claimed_by__isnull=False),
                name="workflow_task_claimed_has_claimer",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "department_code"], name="workflow_task_department"),
            models.Index(fields=["state", "unit_code"], name="workflow_task_unit"),
            models.Index(fields=["state", "position_code"], name="workflow_task_position"),
            models.Index(fields=["claimed_by", "state"], name="workflow_task_claimer"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_state_display()}）"
