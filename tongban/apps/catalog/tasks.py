"""Thin task wrappers: the worker runs these."""

from __future__ import annotations

from django_tasks import task

from tongban.apps.catalog.imports import import_job_run


@task()
def import_run(job_id: int) -> str:
    return str(import_job_run(job_id=job_id).state)
