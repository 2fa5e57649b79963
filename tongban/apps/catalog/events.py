"""Events the catalogue publishes (names are stable: other apps subscribe to them)."""

ITEM_PUBLISHED = "catalog.item.published"
"""A version of an item was published. Payload: item_id, version_id, version,
implementation_code, name, department_code."""

ITEM_RETIRED = "catalog.item.retired"
"""An item stopped being offered. Payload: item_id, implementation_code."""
