"""Rebuild the catalogue's search index from the published items."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Rebuild the search index of the service catalogue (all published items)."

    def handle(self, *args: Any, **options: Any) -> None:
        from tongban.apps.catalog.indexing import catalog_reindex

        started = time.perf_counter()
        count = catalog_reindex()
        self.stdout.write(f"indexed {count} items in {time.perf_counter() - started:.1f} s")
