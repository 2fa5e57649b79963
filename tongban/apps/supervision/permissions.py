"""Supervision permissions. Scopes come from the role grant (city, division, department)."""

from tongban.platform.access.registry import register

MONITOR_VIEW = register("supervision.monitor.view", "查看电子监察监控、预警与办件")
ALERT_OPEN = register("supervision.alert.open", "人工发起督办（预警）")
CORRECTION_REVIEW = register("supervision.correction.review", "审核纠错说明（采纳/退回）")
CORRECTION_RESPOND = register("supervision.correction.respond", "本部门纠错说明与整改")
RULES_MANAGE = register("supervision.rules.manage", "维护监察规则与评分权重")
EVALUATION_VIEW = register("supervision.evaluation.view", "查看绩效评估与排名")
SOURCE_MANAGE = register("supervision.source.manage", "管理接入监察的业务系统")
