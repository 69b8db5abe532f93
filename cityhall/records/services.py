"""Disposal under the retention schedule, and legal holds (the writes)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from . import registry
from .models import Action, DisposalLog, HoldKind, LegalHold, RetentionRule

logger = logging.getLogger(__name__)


def active_holds() -> registry.Holds:
    references: dict[str, set[str]] = defaultdict(set)
    addresses, emails = [], []
    for hold in LegalHold.objects.active():
        if hold.kind == HoldKind.RECORD:
            references[hold.record_type].add(hold.reference.strip().upper())
        elif hold.kind == HoldKind.ADDRESS:
            addresses.append(hold.address)
        elif hold.person_email:
            emails.append(hold.person_email.strip().lower())
    user_ids = (
        tuple(get_user_model().objects.filter(email__in=emails).values_list("pk", flat=True))
        if emails
        else ()
    )
    return registry.Holds(dict(references), tuple(addresses), tuple(emails), user_ids)


def person_on_hold(user) -> bool:
    """Whether a legal hold covers this person or any of their records (one record, an
    address): their account is then not deleted, since that deletes and anonymises them."""
    person = LegalHold.objects.active().filter(
        kind=HoldKind.PERSON, person_email__iexact=user.email
    )
    if person.exists():
        return True
    holds = active_holds()
    if not holds:
        return False
    for record_type in registry.RECORD_TYPES.values():
        mine = record_type.of_person(user)
        if mine is None or record_type.model is None:
            continue
        rows = record_type.model._default_manager.filter(mine)
        if rows.filter(record_type.held(holds)).exists():
            return True
    return False


def governed(rule: RetentionRule, rules: list[RetentionRule]) -> list[tuple[str, list[str] | None]]:
    """The (status group, kinds) this rule governs: a record follows the most specific rule
    that matches it (status and kind, then status, then kind, then everything). Kinds are None
    where the rule governs every kind of the status group."""
    record_type = rule.kind_of
    present = {(other.status, other.kind) for other in rules}
    statuses = [group.value for group in record_type.statuses()] or [""]
    kinds = [group.value for group in record_type.kinds()]
    result = []
    for status in statuses:
        if rule.status and rule.status != status:
            continue
        if not kinds:
            candidates = [(status, ""), ("", "")]
            if next((c for c in candidates if c in present), None) == (rule.status, ""):
                result.append((status, None))
            continue
        mine = []
        for kind in kinds:
            candidates = [(status, kind), (status, ""), ("", kind), ("", "")]
            # (a record no rule matches is kept: no rule, no disposal)
            if next((c for c in candidates if c in present), None) == (rule.status, rule.kind):
                mine.append(kind)
        if mine:
            result.append((status, None if len(mine) == len(kinds) and not rule.kind else mine))
    return result


def _querysets(found) -> list[QuerySet]:
    return list(found) if isinstance(found, list | tuple) else [found]


def due(rule: RetentionRule, *, now: datetime | None = None, holds=None) -> int:
    """How many records the rule would dispose of now (the console shows it before saving)."""
    if rule.action == Action.KEEP or rule.kind_of is None:
        return 0
    record_type = rule.kind_of
    holds = active_holds() if holds is None else holds
    rules = list(RetentionRule.objects.filter(record_type=rule.record_type))
    if rule.pk is None:
        rules = [r for r in rules if (r.status, r.kind) != (rule.status, rule.kind)] + [rule]
    total = 0
    for status, kinds in governed(rule, rules):
        found = record_type.expired(
            status=status, kinds=kinds, before=rule.cutoff(now), action=rule.action
        )
        for queryset in _querysets(found):
            if holds:
                queryset = queryset.exclude(_held(record_type, queryset, holds))
            total += queryset.count()
    return total


def _held(record_type: registry.RecordType, queryset: QuerySet, holds: registry.Holds):
    held = getattr(record_type, "held_for", None)
    return held(queryset, holds) if held else record_type.held(holds)


def _kpi_day(rules: list[RetentionRule], now: datetime):
    """The latest day whose roll-ups a disposal could change: roll-ups are sealed there first."""
    days = [
        timezone.localdate(rule.cutoff(now))
        for rule in rules
        # (anonymising keeps every row a roll-up counts: only deleting needs the seal)
        if rule.action == Action.DELETE and rule.kind_of and rule.kind_of.feeds_kpis
    ]
    return max(days) if days else None


def dispose(
    *, now: datetime | None = None, batch_size: int | None = None, stop_at: float | None = None
) -> list[DisposalLog]:
    """Apply every rule of the schedule once. Batches of `batch_size` records, each in its own
    transaction with its log counts, so a worker killed half-way leaves whole batches done and
    logged, and the next run goes on from there. Records under a legal hold are skipped.
    `stop_at` (a `time.monotonic()` value): no batch is started after it (the rest waits for
    the next run)."""
    now = now or timezone.now()
    batch_size = batch_size or settings.RECORDS_DISPOSAL_BATCH
    rules = [rule for rule in RetentionRule.objects.all() if rule.kind_of is not None]
    kpi_day = _kpi_day(rules, now)
    if kpi_day is not None:
        for hook in registry.BEFORE_DISPOSAL:
            hook(kpi_day)
    holds = active_holds()
    by_type: dict[str, list[RetentionRule]] = defaultdict(list)
    for rule in rules:
        by_type[rule.record_type].append(rule)
    # The rule that waited longest goes first: a run cut short by its time budget (a first
    # run's backlog) does not leave the same rules undone night after night.
    last_run = dict(
        DisposalLog.objects.filter(finished_at__isnull=False)
        .values_list("rule_id")
        .annotate(last=Max("finished_at"))
        .values_list("rule_id", "last")
    )
    never = timezone.now() - timedelta(days=365 * 100)
    rules.sort(key=lambda rule: (last_run.get(rule.pk) or never, rule.pk))
    logs = []
    for rule in rules:
        if rule.action == Action.KEEP:
            continue
        logs.append(_dispose_rule(rule, by_type[rule.record_type], now, holds, batch_size, stop_at))
    return logs


def _when(rule: RetentionRule) -> str:
    return "at once" if rule.period == 0 else f"after {rule.period_text}"


def _dispose_rule(rule, rules, now, holds, batch_size, stop_at=None) -> DisposalLog:
    record_type = rule.kind_of
    cutoff = rule.cutoff(now)
    log = DisposalLog.objects.create(
        rule=rule,
        record_type=rule.record_type,
        rule_text=f"{rule}: {rule.action} {_when(rule)}"[:300],
        action=rule.action,
        cutoff=cutoff,
        started_at=timezone.now(),
    )
    complete = True
    try:
        for status, kinds in governed(rule, rules):
            found = record_type.expired(
                status=status, kinds=kinds, before=cutoff, action=rule.action
            )
            for queryset in _querysets(found):
                if holds:
                    queryset = queryset.exclude(_held(record_type, queryset, holds))
                complete &= _dispose_batches(
                    record_type, queryset, rule.action, log, batch_size, stop_at
                )
    except Exception as error:
        # One rule's failure (a batch it cannot dispose of) does not stop the others; its
        # committed batches stay done and it is tried again the next night.
        logger.exception("disposal under %s failed", log.rule_text)
        DisposalLog.objects.filter(pk=log.pk).update(
            note=f"Failed: {type(error).__name__}. The next run tries again."[:300]
        )
    else:
        if complete:
            DisposalLog.objects.filter(pk=log.pk).update(finished_at=timezone.now())
        else:
            DisposalLog.objects.filter(pk=log.pk).update(
                note="Stopped part-way: the run's time was up. The next run goes on."
            )
    log.refresh_from_db()
    logger.info(
        "disposal %s: %d deleted, %d anonymised", log.rule_text, log.deleted, log.anonymised
    )
    return log


def _dispose_batches(
    record_type, queryset: QuerySet, action: str, log, batch_size: int, stop_at=None
) -> None:
    """Batches until none is left (True) or the time is up (False)."""
    model = queryset.model
    last = None
    while True:
        if stop_at is not None and time.monotonic() >= stop_at:
            return False
        with transaction.atomic():
            page = queryset.order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            # Rows another transaction holds (a clerk editing one) wait for the next night.
            pks = list(
                page.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[
                    :batch_size
                ]
            )
            if not pks:
                return True
            counts = record_type.dispose(model._default_manager.filter(pk__in=pks), action)
            DisposalLog.objects.filter(pk=log.pk).update(
                deleted=F("deleted") + counts.get("deleted", 0),
                anonymised=F("anonymised") + counts.get("anonymised", 0),
                batches=F("batches") + 1,
            )
        last = pks[-1]


@transaction.atomic
def hold_release(hold: LegalHold, *, by, reason: str) -> LegalHold:
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at = timezone.now()
        hold.released_by = by
        hold.release_reason = reason
        hold._history_user = by
        hold.save()
    return hold
