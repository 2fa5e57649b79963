"""Scheduled exchange permissions. Scopes come from the role grant (department, city)."""

from tongban.platform.access.registry import register

JOB_MANAGE = register("exchange.job.manage", "管理本部门的数据交换任务与数据集")
DELIVERY_RECEIVE = register("exchange.delivery.receive", "接收本部门的交换数据并确认回执")
MONITOR_VIEW = register("exchange.monitor.view", "查看全市数据交换运行监控")
