"""Enqueue Celery tasks only once the surrounding transaction has committed.

A task enqueued inside a transaction can run before the row it reads is visible, or for a
row that a rollback then removes. `enqueue_on_commit` is the one way this code base enqueues.
"""

from __future__ import annotations

from functools import partial

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args, using: str | None = None, **kwargs) -> None:
    transaction.on_commit(partial(task.delay, *args, **kwargs), using=using, robust=True)
