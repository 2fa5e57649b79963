"""The search app's permissions (names in Chinese; shown translated in the admin)."""

from tongban.platform.access.registry import register

SYNONYM_MANAGE = register("search.synonym.manage", "维护搜索同义词")
