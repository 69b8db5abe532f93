"""The one workflow engine every app declares its tables with.

A workflow is a table of moves: from which statuses, to which, who may make it, what the
console asks for (a small Django form), and what the timeline records. `Workflow.transition`
is the only way a status changes: it locks the row, checks the table and the actor, saves with
the audit user (the `system` user when the actor is None, i.e. a beat task), writes the timeline
event and calls the notice inside the same transaction (`notify()` defers sending to commit,
so a crash after commit leaves a pending delivery the sweeper finds, never a lost notice).

Workflow models subclass `StatusGuard`: saving a changed status that did not come through
`transition` raises, so a service that skips the table fails its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils.module_loading import import_string

from .constants import EventKind
from .timeline import word

OWNER = "owner"  # the resident the record belongs to: the applicant, the reporter
SYSTEM = None  # only the system: beat tasks, or a side effect of another move


class TransitionNotAllowed(Exception):
    """A move the workflow table or the actor's permissions do not allow."""


class WorkflowBypassed(RuntimeError):
    """A status was saved without going through `Workflow.transition`."""


@dataclass(frozen=True)
class Move:
    """One row of a workflow table.

    `targets` empty means an action that leaves the status alone (a note, a payment); more than
    one target means the actor's input picks it (an inspection's result). `who` is a permission
    code, OWNER or SYSTEM. `form` is the console's input form for it (None: a bare button).
    """

    name: str
    sources: tuple[str, ...]
    targets: tuple[str, ...] = ()
    who: str | None = SYSTEM
    label: str = ""
    form: str | None = (
        None  # dotted path of the console form (resolved late: forms import services)
    )
    event: str | None = EventKind.STATUS
    public: bool = True
    not_own: bool = False  # separation of duties: never on a record the actor owns
    danger: bool = False  # irreversible or bad news for a resident
    primary: bool = False
    console: bool = True
    # Asks for a fresh second factor (older than 15 minutes) first; default: the dangerous ones.
    reverify: bool | None = None
    # Irreversible: the console asks "are you sure?" on a page of its own that states the
    # consequence (a sentence, or a function of the record returning one).
    confirm: str | Callable[[Any], str] | None = None
    # A rule beyond the status: returns why the move is not possible now, or None.
    guard: Callable[[Any], str | None] | None = None
    # Whether the console offers the move on this record (a hint, not a rule).
    offer: Callable[[Any], bool] | None = None

    @property
    def changes_status(self) -> bool:
        return bool(self.targets)

    @property
    def asks_confirmation(self) -> bool:
        return self.confirm is not None

    def consequence(self, obj) -> str:
        return self.confirm(obj) if callable(self.confirm) else (self.confirm or "")

    @property
    def asks_fresh_code(self) -> bool:
        return self.danger if self.reverify is None else self.reverify

    @property
    def form_class(self) -> type | None:
        return import_string(self.form) if self.form else None


class Workflow:
    """A workflow table bound to its model, its timeline and the handlers that run its moves."""

    def __init__(
        self,
        name: str,
        *,
        model: type[models.Model],
        subject: str,
        moves: Iterable[Move],
        owner: Callable[..., bool] | None = None,
        timeline: Callable[[Any], tuple[type[models.Model], dict]] | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.subject = subject  # the keyword its services take: application=, case=, ...
        self.moves = {move.name: move for move in moves}
        self.owner = owner
        self.timeline = timeline
        self.handlers: dict[str, Callable] = {}

    def __repr__(self) -> str:
        return f"<Workflow {self.name}>"

    # --- The table ----------------------------------------------------------------------------
    def move(self, name: str) -> Move:
        try:
            return self.moves[name]
        except KeyError:
            raise TransitionNotAllowed(f"There is no action “{name}”.") from None

    def is_owner(self, obj, actor, **proof) -> bool:
        if self.owner is None:
            return False
        return bool(self.owner(obj, actor, **proof))

    def check(self, obj, name: str, actor, *, target: str | None = None, **proof) -> str | None:
        """Raise TransitionNotAllowed unless `actor` (None = the system) may make this move now.
        Returns the status the move leads to (None for an action that keeps it)."""
        move = self.move(name)
        if obj.status not in move.sources:
            raise TransitionNotAllowed(
                f"“{move.label or move.name}” is not possible while the status is "
                f"{_status_label(obj)}."
            )
        if move.targets:
            if target is None and len(move.targets) == 1:
                target = move.targets[0]
            if target not in move.targets:
                raise TransitionNotAllowed("Choose one of the offered results.")
        else:
            target = None
        if move.guard is not None and (reason := move.guard(obj)):
            raise TransitionNotAllowed(reason)
        if actor is None:
            return target
        if move.who is SYSTEM:
            raise TransitionNotAllowed("Only the system makes this change.")
        if move.who == OWNER:
            if not self.is_owner(obj, actor, **proof):
                raise TransitionNotAllowed("Only the person this record belongs to can do this.")
            return target
        if not (actor.is_authenticated and actor.is_staff and actor.has_perm(move.who)):
            raise TransitionNotAllowed("You do not have permission to do this.")
        if move.not_own and self.is_owner(obj, actor):
            raise TransitionNotAllowed("You cannot decide on something you submitted yourself.")
        return target

    def allows(self, obj, name: str, actor, **proof) -> bool:
        try:
            self.check(obj, name, actor, target=self._any_target(name), **proof)
        except TransitionNotAllowed:
            return False
        return True

    def _any_target(self, name: str) -> str | None:
        targets = self.move(name).targets
        return targets[0] if targets else None

    def moves_for(self, actor, obj) -> list[Move]:
        """The console moves this staff member may make on `obj` now, in table order."""
        return [
            move
            for move in self.moves.values()
            if move.console
            and move.who not in (SYSTEM, OWNER)
            and self.allows(obj, move.name, actor)
        ]

    # --- Changing state -----------------------------------------------------------------------
    def transition(
        self,
        obj,
        name: str,
        *,
        actor,
        target: str | None = None,
        text="",
        note: str = "",
        spanish: str = "",
        apply: Callable[[Any], None] | None = None,
        notify: Callable[[Any], None] | None = None,
        **proof,
    ):
        """Make move `name` on `obj`. Returns the locked, saved instance.

        `apply(locked)` sets the fields the move changes besides the status (and may raise a
        ValidationError, which rolls everything back); `notify(locked)` tells people, inside the
        transaction. `proof` is passed to the owner check (e.g. an anonymous reporter's secret).
        """
        with transaction.atomic():
            locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
            move = self.move(name)
            target = self.check(locked, name, actor, target=target, **proof)
            if target is not None:
                locked.status = target
                locked._workflow_move = move.name
            if apply is not None:
                apply(locked)
            if target is not None or apply is not None:
                _audit(locked, actor).save()
            if move.event is not None:
                self.record(
                    locked,
                    kind=move.event,
                    status=target or "",
                    text=text,
                    note=note,
                    spanish=spanish,
                    actor=actor,
                    public=move.public,
                )
            if notify is not None:
                notify(locked)
        return locked

    def record(
        self,
        obj,
        *,
        kind: str,
        text="",
        actor=None,
        public=True,
        status="",
        note: str = "",
        spanish: str = "",
    ):
        """Append an event to the record's timeline (a workflow without one records nothing).

        `text` is what a person wrote, or `cityhall.timeline.said(...)` for words the system
        chooses (stored as a phrase, worded in each reader's language); `note` is a person's
        words added after such a phrase; `spanish` is the same text in Spanish, when staff wrote
        it too (read by Spanish readers instead of `text`)."""
        if self.timeline is None:
            return None
        event_model, owner_fields = self.timeline(obj)
        phrase, params = "", {}
        if spanish.strip() and not isinstance(text, tuple):
            params = {"es": spanish}
        if isinstance(text, tuple):
            phrase, params = text
            text = f"{word(phrase, params, 'en')} {note}".strip()
        return event_model.objects.create(
            **owner_fields,
            kind=kind,
            status=status if kind in (EventKind.STATUS, EventKind.REOPENED) else "",
            text=text,
            phrase=phrase,
            params=params,
            note=note,
            actor=actor if actor is not None and actor.is_authenticated else None,
            public=public,
        )

    # --- Running a move from the console ------------------------------------------------------
    def handler(self, name: str) -> Callable[[Callable], Callable]:
        """Register the service that carries out move `name` (its inputs are the form's fields)."""
        self.move(name)

        def register(function: Callable) -> Callable:
            self.handlers[name] = function
            return function

        return register

    def perform(self, name: str, obj, *, actor, **inputs):
        """Run move `name` through its service, with the inputs its console form cleaned."""
        if name not in self.handlers:
            raise TransitionNotAllowed(f"There is no action “{name}”.")
        return self.handlers[name](**{self.subject: obj}, actor=actor, **inputs)


def _audit(instance, actor):
    from .models import audit_as

    user = actor if actor is not None and actor.is_authenticated else None
    return audit_as(instance, user)


def _status_label(obj) -> str:
    display = getattr(obj, "get_status_display", None)
    return str(display()) if display else str(obj.status)


class StatusGuard(models.Model):
    """A model whose `status` changes only through `Workflow.transition`.

    New rows may start in any status (imports, factories); an existing row whose status changed
    since it was loaded refuses to save unless the engine made the move.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_status", None)
        moved_by_engine = self.__dict__.pop("_workflow_move", None)
        if loaded is not None and self.status != loaded and moved_by_engine is None:
            raise WorkflowBypassed(
                f"{type(self).__name__} {self.pk}: status {loaded} → {self.status} was saved "
                "without its workflow."
            )
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        instance = super().from_db(db, field_names, values, *args, **kwargs)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._loaded_status = self.__dict__.get("status")
