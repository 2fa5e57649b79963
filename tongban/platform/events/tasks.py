"""Thin task wrappers: the worker runs these."""

from __future__ import annotations

from django_tasks import task

from tongban.platform.events.services import delivery_run


@task(queue_name="events")
def deliver(delivery_id: int) -> str:
    return delivery_run(delivery_id)
