"""The catalogue's permissions. Reading published items needs none (they are public)."""

from tongban.platform.access.registry import register

ITEM_EDIT = register("catalog.item.edit", "编辑政务服务事项草稿")
ITEM_REVIEW = register("catalog.item.review", "审核发布政务服务事项")
POWER_MANAGE = register("catalog.power.manage", "维护权责清单和负面清单")
VOCABULARY_MANAGE = register("catalog.vocabulary.manage", "维护法律法规、主题、人生事件和一件事")
IMPORT = register("catalog.import", "导入导出事项清单")
