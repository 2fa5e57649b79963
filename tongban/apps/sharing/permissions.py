"""Sharing permissions. Scopes come from the role grant (city, division, department):
a department-scoped grant reaches the rows of that department (as provider or consumer)."""

from tongban.platform.access.registry import register

CATALOGUE_VIEW = register("sharing.catalogue.view", "浏览政务信息资源目录")
CATALOGUE_EDIT = register("sharing.catalogue.edit", "编制本部门信息资源目录")
CATALOGUE_REVIEW = register("sharing.catalogue.review", "审核发布信息资源目录")
REQUEST_CREATE = register("sharing.request.create", "提出共享申请")
REQUEST_REVIEW = register("sharing.request.review", "审核本部门资源的共享申请")
GRANT_MANAGE = register("sharing.grant.manage", "管理共享授权（撤销）")
SYSTEM_MANAGE = register("sharing.system.manage", "管理接入共享网关的业务系统及其凭证")
LOG_VIEW = register("sharing.log.view", "查看共享调用日志")
STATISTICS_VIEW = register("sharing.statistics.view", "查看共享交换统计")
