"""Service catalogue and power lists (事项清单, 三单)."""
