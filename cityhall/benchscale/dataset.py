"""The city-size dataset, one function per table, each a few `INSERT ... SELECT` statements.

Every generated row is recognisable: residents and anonymous subscribers have addresses at
`bench.example`, and each top-level table's rows lie in an id range recorded in `RANGE_TABLE`
(ids are reserved from the table's sequence first, so the app's own inserts never collide).
Purging deletes those ranges and, through the models' relations, whatever hangs off them.

Randomness is Postgres' `random()`, seeded per step (`setseed()`): a scale always builds the
same mix and the same counts.

All SQL here is assembled from the models' own table and column names, the app's choice values
and numbers; nothing a person typed ever reaches it, hence the file-wide S608 exemption.
"""

# ruff: noqa: S608

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

MARKER_TABLE = "benchscale_marker"
RANGE_TABLE = "benchscale_range"
DOMAIN = "bench.example"
PASSWORD = "riverbend-demo"
HISTORY_DAYS = 3 * 365  # requests and applications spread over three years
KPI_DAYS = 730  # roll-ups for today and the 730 days before, as kpis.demo does
PDF_NAME = "permits/bench/riverbend-bench.pdf"  # under MEDIA_ROOT; every document points here

Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind a scale means (1.0: a city of about 150,000 people)."""

    scale: float
    residents: int
    requests: int
    permits: int
    subscriptions: int
    cases: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        def n(full: int) -> int:
            return max(1, round(full * scale))

        return cls(
            scale=scale,
            residents=n(60_000),
            requests=n(1_000_000),
            permits=n(200_000),
            subscriptions=n(50_000),
            cases=n(20_000),
        )


# --- SQL helpers ----------------------------------------------------------------------------------


class T:
    """A model's table and columns by field name: `T(User).table`, `T(User).email`."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table = model._meta.db_table

    def __getattr__(self, name: str) -> str:
        return self.model._meta.get_field(name).column


def lit(value) -> str:
    """A SQL literal for the app's own values (codes, labels, numbers), never user input."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def array(values: Iterable, cast: str) -> str:
    return f"ARRAY[{', '.join(lit(v) for v in values)}]::{cast}[]"


def pick(weights: dict, rnd: str, cast: str = "bigint") -> str:
    """A weighted choice among `weights`' keys, driven by the uniform [0, 1) expression `rnd`."""
    keys = list(weights)
    total = float(sum(weights.values()))
    bounds, running = [], 0.0
    for key in keys:
        bounds.append(running / total)
        running += weights[key]
    return f"({array(keys, cast)})[width_bucket({rnd}, {array(bounds, 'float8')})]"


def one_of(values: list, rnd: str, cast: str = "text") -> str:
    """A uniform choice among `values`."""
    return f"({array(values, cast)})[1 + floor({rnd} * {len(values)})::int]"


def gauss(mean: str, sd: str, u1: str, u2: str) -> str:
    """A normal variate from two uniform [0, 1) expressions (Box-Muller)."""
    return f"({mean} + ({sd}) * sqrt(-2 * ln(1 - {u1})) * cos(2 * pi() * {u2}))"


def local_day(column: str) -> str:
    """The local calendar day of a timestamptz, as Django's `__date` and `TruncDate` compute it."""
    return f"({column} AT TIME ZONE {lit(settings.TIME_ZONE)})::date"


def local_time(day: str, seconds: str) -> str:
    """A timestamptz: `seconds` after local midnight of `day`."""
    return (
        f"((({day})::timestamp + make_interval(secs => {seconds})) "
        f"AT TIME ZONE {lit(settings.TIME_ZONE)})"
    )


def padded(number: str, width: int) -> str:
    """Python's f"{n:0{width}d}": zero-padded, never truncated."""
    return f"CASE WHEN {number} < 1{'0' * width} THEN lpad(({number})::text, {width}, '0') ELSE ({number})::text END"


def run(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def scalar(sql: str, params: dict | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def rows(sql: str, params: dict | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def insert(
    model: type[models.Model],
    values: dict[str, str],
    source: str,
    params: dict | None = None,
    *,
    with_: str = "",
) -> int:
    """`INSERT INTO <model's table> (<columns>) SELECT <values> FROM <source>`.

    `values` maps field names to SQL expressions; every NOT NULL column must be given one (a
    database default is not something Django declares, so a missing column would fail late).
    """
    meta = model._meta
    given = {meta.get_field(name).column: expr for name, expr in values.items()}
    missing = [
        f.column
        for f in meta.concrete_fields
        if not f.null and not f.primary_key and f.column not in given
    ]
    if missing:
        raise ValueError(f"{meta.db_table}: no value for NOT NULL {', '.join(missing)}")
    columns = ", ".join(f'"{column}"' for column in given)
    exprs = ",\n  ".join(f"{expr}" for expr in given.values())
    prefix = f"WITH {with_}\n" if with_ else ""
    return run(
        f"{prefix}INSERT INTO {meta.db_table} ({columns})\nSELECT {exprs}\nFROM {source}", params
    )


@contextmanager
def indexes_deferred(*tables: type[models.Model]):
    """Drop the tables' plain indexes for a bulk insert and build them again afterwards: one
    sort per index instead of a million scattered inserts. Unique indexes and those behind
    constraints stay. Inside the step's transaction, so a failed build puts them back too."""
    saved = []
    for model in tables:
        saved += rows(
            """SELECT i.relname, pg_get_indexdef(i.oid)
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %(table)s::regclass AND NOT x.indisunique
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            {"table": model._meta.db_table},
        )
    for name, _definition in saved:
        run(f'DROP INDEX "{name}"')
    yield
    # Django's foreign keys are checked at commit; an index cannot be built over rows whose
    # checks are still pending, so run them now (and defer again for what follows).
    run("SET CONSTRAINTS ALL IMMEDIATE")
    run("SET LOCAL maintenance_work_mem = '256MB'")
    for _name, definition in saved:
        run(definition)
    run("SET CONSTRAINTS ALL DEFERRED")


def reserve(model: type[models.Model], count: int) -> int:
    """Take `count` ids from the table's sequence; returns the first. The app's own inserts, now
    or later, draw ids after the reserved block."""
    table, pk = model._meta.db_table, model._meta.pk.column
    sequence = scalar("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
    current = scalar(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}")
    highest = scalar(f"SELECT coalesce(max({pk}), 0) FROM {table}")
    first = max(current, highest) + 1
    run("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


# --- What the build starts from -------------------------------------------------------------------


@dataclass
class Refs:
    """The demo's reference data, read once: ids and weights the SQL picks from."""

    today: date
    categories: dict[int, float]  # id -> share of reports
    neighborhoods: dict[int, float]  # id -> households
    permit_types: dict[int, float]  # id -> share of applications
    violation_types: list[int]
    staff: dict[str, list[int]]  # role -> user ids
    residents: tuple[int, int] = (0, 0)  # first id, count (set once residents exist)
    ranges: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # table -> lo, hi, rows


def reference_missing() -> bool:
    """Whether `load_demo` has to run first (no permit types, categories, places or staff)."""
    from cityhall.models import Neighborhood, User
    from code_enforcement.models import ServiceCategory
    from permits.models import PermitType

    return not (
        PermitType.objects.exists()
        and ServiceCategory.objects.exists()
        and Neighborhood.objects.exists()
        and User.objects.filter(is_staff=True, is_active=True).exists()
    )


def references() -> Refs:
    """Read the reference rows; the demo's own category and permit mixes weight the picks."""
    from cityhall.models import Neighborhood, User
    from cityhall.roles import Role, role_group_name
    from code_enforcement.demo import CATEGORIES
    from code_enforcement.models import ServiceCategory, ViolationType
    from permits.demo import TYPES
    from permits.models import PermitType

    category_weight = {row[0]: row[12] for row in CATEGORIES}
    type_weight = dict(
        zip([row[0] for row in TYPES], [25, 12, 10, 8, 6, 6, 18, 6, 5, 4], strict=True)
    )
    staff = {}
    for role in Role:
        ids = list(
            User.objects.filter(groups__name=role_group_name(role), is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        staff[role.value] = ids or list(
            User.objects.filter(is_staff=True, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return Refs(
        today=timezone.localdate(),
        categories={
            c.pk: float(category_weight.get(c.code, 5))
            for c in ServiceCategory.objects.filter(is_active=True)
        },
        neighborhoods={n.pk: float(n.households or 1000) for n in Neighborhood.objects.all()},
        permit_types={
            t.pk: float(type_weight.get(t.code, 5))
            for t in PermitType.objects.filter(is_active=True)
        },
        violation_types=list(ViolationType.objects.values_list("pk", flat=True)),
        staff=staff,
    )


# --- The marker and the id ranges -------------------------------------------------------------------


def ensure_tables() -> None:
    run(
        f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
        "(scale numeric, built_at timestamptz, seconds numeric)"
    )
    run(
        f"CREATE TABLE IF NOT EXISTS {RANGE_TABLE} "
        "(tbl text PRIMARY KEY, lo bigint, hi bigint, rows bigint)"
    )


def built_scale() -> float | None:
    """The scale of the dataset in this database, or None when there is none."""
    from cityhall.models import User

    ensure_tables()
    scale = scalar(f"SELECT max(scale) FROM {MARKER_TABLE}")
    if scale is None:
        return None
    # A database emptied under the marker (a test flush, a restore) has no residents left.
    first = User.objects.filter(email=f"resident1@{DOMAIN}").exists()
    return float(scale) if first else None


def record_range(table: str, lo: int, hi: int, count: int, refs: Refs) -> None:
    run(
        f"INSERT INTO {RANGE_TABLE} (tbl, lo, hi, rows) VALUES (%(t)s, %(lo)s, %(hi)s, %(n)s) "
        "ON CONFLICT (tbl) DO UPDATE SET lo = excluded.lo, hi = excluded.hi, rows = excluded.rows",
        {"t": table, "lo": lo, "hi": hi, "n": count},
    )
    refs.ranges[table] = (lo, hi, count)


def recorded_ranges() -> dict[str, tuple[int, int, int]]:
    ensure_tables()
    return {t: (lo, hi, n) for t, lo, hi, n in rows(f"SELECT tbl, lo, hi, rows FROM {RANGE_TABLE}")}


def delete_cascading(model: type[models.Model], where: str) -> int:
    """Delete `model`'s rows matching `where` in SQL, first deleting (CASCADE, PROTECT) or
    unlinking (SET_NULL) the rows that refer to them, as the ORM would but set-based.

    Self-references are unlinked: a row that is itself to go matches `where` anyway.
    """
    meta = model._meta
    ids = f"SELECT {meta.pk.column} FROM {meta.db_table} WHERE {where}"
    for rel in meta.get_fields(include_hidden=True):
        if not isinstance(rel, models.ManyToOneRel) or not rel.field.concrete:
            continue
        if rel.on_delete is models.DO_NOTHING or not rel.field.db_constraint:
            continue  # simple-history's copies of foreign keys: no constraint, nothing to do
        child, column = rel.related_model, rel.field.column
        if rel.on_delete is models.SET_NULL or child is model:
            run(f"UPDATE {child._meta.db_table} SET {column} = NULL WHERE {column} IN ({ids})")
        else:
            delete_cascading(child, f"{column} IN ({ids})")
    return run(f"DELETE FROM {meta.db_table} WHERE {where}")


def purge(log: Log = print) -> dict[str, int]:
    """Delete every generated row (and whatever the app has since hung off them), the marker and
    the recorded ranges. Demo rows are outside the ranges and are never touched."""
    from alerts.models import Subscription
    from cityhall.models import User
    from code_enforcement.models import CodeCase, ServiceRequest
    from kpis.models import PerformanceSettings
    from permits.models import Application

    ranges = recorded_ranges()
    deleted: dict[str, int] = {}
    with transaction.atomic():
        run("SET LOCAL synchronous_commit = off")
        # Requests before cases and users: the SET NULLs then find nothing left to update.
        for model in (ServiceRequest, CodeCase, Application, Subscription, User):
            table = model._meta.db_table
            if table not in ranges:
                continue
            lo, hi, _count = ranges[table]
            started = time.monotonic()
            where = f"{model._meta.pk.column} BETWEEN {lo} AND {hi}"
            if model is User:  # belt and braces: only ever the generated accounts
                where += f" AND right({T(User).email}, {len(DOMAIN) + 1}) = {lit('@' + DOMAIN)}"
            deleted[table] = delete_cascading(model, where)
            log(f"deleted {deleted[table]:>9,} {table} ({time.monotonic() - started:.1f}s)")
        if "households" in ranges:
            before, after, _zero = ranges["households"]
            settings_table = T(PerformanceSettings)
            run(
                f"UPDATE {settings_table.table} SET {settings_table.households} = {before} "
                f"WHERE {settings_table.households} = {after}"
            )
        run(f"DELETE FROM {RANGE_TABLE}")
        run(f"DELETE FROM {MARKER_TABLE}")
    return deleted


def business_days(refs: Refs) -> None:
    """Temp table bench_bizday(day, n, due) = cityhall.calendar.add_business_days(day, n) for
    every day of the history and every service level the reference data uses."""
    from cityhall.models import Holiday
    from code_enforcement.models import ServiceCategory
    from permits.models import PermitType

    holidays = set(Holiday.objects.values_list("date", flat=True))
    levels = set(PermitType.objects.values_list("review_sla_days", flat=True))
    for triage, resolve in ServiceCategory.objects.values_list(
        "triage_sla_days", "resolution_sla_days"
    ):
        levels |= {triage, resolve}
    start = refs.today - timedelta(days=HISTORY_DAYS + 10)
    days, counts, dues = [], [], []
    for offset in range(HISTORY_DAYS + 20):
        day = start + timedelta(days=offset)
        for n in sorted(levels):
            current, left = day, n
            while left > 0:
                current += timedelta(days=1)
                if current.weekday() < 5 and current not in holidays:
                    left -= 1
            days.append(day)
            counts.append(n)
            dues.append(current)
    run("DROP TABLE IF EXISTS bench_bizday")
    run("CREATE TEMP TABLE bench_bizday (day date, n int, due date, PRIMARY KEY (day, n))")
    run(
        "INSERT INTO bench_bizday SELECT * FROM unnest(%(d)s::date[], %(n)s::int[], %(due)s::date[])",
        {"d": days, "n": counts, "due": dues},
    )


def sample_pdf() -> int:
    """The one small PDF every generated document points at (under MEDIA_ROOT); its size."""
    path = Path(settings.MEDIA_ROOT) / PDF_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = b"BT /F1 18 Tf 72 720 Td (City of Riverbend - benchmark document) Tj ET"
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        out, offsets = bytearray(b"%PDF-1.4\n"), []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            xref,
        )
        path.write_bytes(bytes(out))
    return path.stat().st_size


# --- Residents -----------------------------------------------------------------------------------

FIRST_NAMES = [
    "María", "José", "Ana", "Luis", "Rosa", "Carlos", "Guadalupe", "Juan", "Sofía", "Miguel",
    "Lucía", "Jorge", "Elena", "Ricardo", "Isabel", "Mei", "Wei", "Linh", "Minh", "Priya",
    "Arjun", "James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emily", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "García", "Hernández", "López", "Martínez", "González", "Rodríguez", "Pérez", "Sánchez",
    "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Morales", "Nguyen",
    "Tran", "Chen", "Wong", "Patel", "Singh", "Smith", "Johnson", "Williams", "Brown", "Miller",
    "Davis", "Wilson", "Anderson",
]  # fmt: skip
STREETS = [
    "Oak Street", "Main Street", "River Road", "Calle Palma", "Mission Avenue",
    "Sunset Boulevard", "Eastgate Drive", "Vista del Río Court", "Hill Road", "Camino Real",
    "Pine Street", "Market Street", "Alvarado Way", "Sequoia Lane", "Willow Avenue",
    "Cedar Street", "Madrone Drive", "Calle Luna", "Orchard Lane", "Almaden Road",
]  # fmt: skip


def street_address(r_number: str, r_street: str) -> str:
    """ "2872 Pine Street": a house number and one of the city's streets."""
    return f"(10 + floor({r_number} * 2990)::int)::text || ' ' || {one_of(STREETS, r_street)}"


def phone_number(area: int, n: str) -> str:
    """Distinct valid US mobile numbers in E.164: +1<area>555xxxx, then 556xxxx, and so on."""
    return f"'+1{area}' || (555 + ({n}) / 10000)::text || lpad((({n}) % 10000)::text, 4, '0')"


def build_residents(plan: Plan, refs: Refs) -> int:
    """cityhall.User: resident<n>@bench.example, all with one precomputed hash of the demo
    password and a verified primary email (allauth's), 65% preferring Spanish, 45% with a
    confirmed mobile number, notification preferences set."""
    from allauth.account.models import EmailAddress

    from cityhall.models import User

    u, n = T(User), plan.residents
    lo = reserve(User, n)
    email = f"'resident' || g || '@{DOMAIN}'"
    count = insert(
        User,
        {
            "id": f"{lo} + g - 1",
            "password": lit(make_password(PASSWORD)),
            "is_superuser": "false",
            "username": email,
            "first_name": one_of(FIRST_NAMES, "r1"),
            "last_name": one_of(LAST_NAMES, "r2"),
            "is_staff": "false",
            "is_active": "true",
            "date_joined": f"now() - make_interval(days => {HISTORY_DAYS + 5} + floor(r3 * 400)::int)",
            "email": email,
            "phone": f"CASE WHEN r4 < 0.45 THEN {phone_number(408, 'g')} ELSE '' END",
            "home_address": street_address("r5", "r6"),
            "preferred_language": "CASE WHEN r7 < 0.65 THEN 'es' ELSE 'en' END",
            "notify_by_email": "r8 < 0.97",
            "notify_by_sms": "r4 < 0.45 AND r9 < 0.6",
            "neighborhood": pick(refs.neighborhoods, "r10"),
            "phone_code": "''",
            "phone_code_attempts": "0",
            "phone_confirmed_at": f"CASE WHEN r4 < 0.45 THEN now() - make_interval(days => {HISTORY_DAYS} + floor(r3 * 300)::int) END",
        },
        f"""(SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
                    random() r6, random() r7, random() r8, random() r9, random() r10
             FROM generate_series(1, {n}) g) s""",
    )
    e = T(EmailAddress)
    insert(
        EmailAddress,
        {"email": u.email, "verified": "true", "primary": "true", "user": u.id},
        f"{u.table} WHERE {u.id} BETWEEN {lo} AND {lo + n - 1}",
    )
    refs.residents = (lo, n)
    record_range(u.table, lo, lo + n - 1, count, refs)
    record_range(e.table, 0, 0, n, refs)
    return count


# --- Alert subscriptions -------------------------------------------------------------------------


def build_subscriptions(plan: Plan, refs: Refs) -> int:
    """alerts.Subscription: confirmed and citywide, on every topic (so a citywide alert on any
    topic reaches them all). 40% belong to a resident's account (the address and number come
    from the profile); the rest subscribed with an address of their own. All by email, about
    30% by text as well, each number distinct."""
    from alerts.models import Subscription, Topic
    from cityhall.models import User

    s, u = T(Subscription), T(User)
    n = plan.subscriptions
    first_user, residents = refs.residents
    linked = min(round(n * 0.4), residents)
    lo = reserve(Subscription, n)
    count = insert(
        Subscription,
        {
            "id": f"{lo} + g - 1",
            "user": f"CASE WHEN g <= {linked} THEN {first_user} + g - 1 END",
            "email": f"CASE WHEN g <= {linked} THEN '' ELSE 'alerts' || g || '@{DOMAIN}' END",
            "phone": f"CASE WHEN g > {linked} AND r1 < 0.3 THEN {phone_number(650, 'g')} ELSE '' END",
            "language": f"coalesce(usr.{u.preferred_language}, CASE WHEN r2 < 0.62 THEN 'es' ELSE 'en' END)",
            "by_email": "true",
            "by_sms": f"CASE WHEN g <= {linked} THEN usr.{u.phone} <> '' AND r1 < 0.67 ELSE r1 < 0.3 END",
            "citywide": "true",
            "confirmed_at": "confirmed",
            "sms_code": "''",
            "sms_code_attempts": "0",
            "created_at": "confirmed - make_interval(mins => floor(r3 * 600)::int)",
        },
        f"""(SELECT g, random() r1, random() r2, random() r3,
                    now() - make_interval(secs => random() * {HISTORY_DAYS * 86400}) confirmed
             FROM generate_series(1, {n}) g) gen
            LEFT JOIN {u.table} usr ON g <= {linked} AND usr.{u.id} = {first_user} + g - 1""",
    )
    through = Subscription.topics.through
    link = T(through)
    run(
        f"INSERT INTO {link.table} ({link.subscription}, {link.topic}) "
        f"SELECT sub, topic.{T(Topic).id} FROM generate_series({lo}, {lo + n - 1}) sub "
        f"CROSS JOIN {T(Topic).table} topic"
    )
    record_range(s.table, lo, lo + n - 1, count, refs)
    return count


# --- Service requests ----------------------------------------------------------------------------

PUBLIC_ID_MULTIPLIER = 0x5DEECE66D  # odd: i -> i * M + salt (mod 2^40) never maps two ids alike
RESOLUTION_NOTES = {
    "resolved": "Fixed. Thank you for reporting it.",
    "duplicate": "Same problem as an earlier report; we are working on that one.",
    "no_violation": "An inspector checked and found no violation.",
    "referred": "Referred to the agency responsible.",
}


def public_id(number: str, salt: int) -> str:
    """10 upper-case hex digits, the shape `_public_id()` makes, from a row's id."""
    return (
        f"upper(lpad(to_hex((({number})::bigint * {PUBLIC_ID_MULTIPLIER} + {salt}) "
        f"& {2**40 - 1}), 10, '0'))"
    )


def public_id_salt(lo: int, hi: int) -> int:
    """A salt whose public ids clash with none already in the table (the demo's are random)."""
    from code_enforcement.models import ServiceRequest

    r = T(ServiceRequest)
    for salt in range(0x3A5F1C2B7, 0x3A5F1C2B7 + 50 * 7919, 7919):
        clashes = scalar(
            f"SELECT count(*) FROM {r.table} WHERE {r.public_id} IN "
            f"(SELECT {public_id('i', salt)} FROM generate_series({lo}, {hi}) i)"
        )
        if not clashes:
            return salt
    raise RuntimeError("no clash-free public id salt found")


def build_requests(plan: Plan, refs: Refs) -> int:
    """Service requests and their timelines, with the tables' plain indexes built afterwards."""
    from code_enforcement.models import RequestEvent, ServiceRequest

    with indexes_deferred(ServiceRequest, RequestEvent):
        return insert_requests(plan, refs)


def insert_requests(plan: Plan, refs: Refs) -> int:
    """code_enforcement.ServiceRequest over three years: weighted categories, places inside the
    neighborhoods, reporters among the residents (or anonymous, some with a contact email),
    status by age (a few % still open), due dates in business days, and two timeline events
    each (RequestEvent: received, then the latest move)."""
    from cityhall.models import Neighborhood, User
    from cityhall.roles import Role
    from code_enforcement.constants import RequestStatus, Resolution, Source
    from code_enforcement.models import Department, ServiceCategory, ServiceRequest

    r, c, h, u = T(ServiceRequest), T(ServiceCategory), T(Neighborhood), T(User)
    n = plan.requests
    first_user, residents = refs.residents
    lo = reserve(ServiceRequest, n)
    salt = public_id_salt(lo, lo + n - 1)
    closed, new = RequestStatus.CLOSED.value, RequestStatus.NEW.value
    resolutions = {
        Resolution.RESOLVED.value: 78,
        Resolution.DUPLICATE.value: 8,
        Resolution.NO_VIOLATION.value: 9,
        Resolution.REFERRED.value: 5,
    }
    notes = (
        "CASE res "
        + " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in RESOLUTION_NOTES.items())
        + " ELSE '' END"
    )
    assignees = refs.staff[Role.CODE_INSPECTOR.value] + refs.staff[Role.CODE_SUPERVISOR.value]
    language = (
        f"coalesce(usr.{u.preferred_language}, CASE WHEN r_lang < 0.6 THEN 'es' ELSE 'en' END)"
    )
    stages = f"""
    s AS (
        SELECT g, {lo} + g - 1 AS rid, {pick(refs.categories, "random()")} AS cat,
               {pick(refs.neighborhoods, "random()")} AS hood,
               floor(random() * {HISTORY_DAYS})::int AS age,
               random() r_time, random() r_close, random() r_ack, random() r_res, random() u1,
               random() u2, random() r_src, random() r_rep, random() r_who, random() r_lang,
               random() r_lat, random() r_lon, random() r_num, random() r_street,
               random() r_assign, random() r_staff, random() r_reopen, random() r_ackh,
               random() r_prog
        FROM generate_series(1, {n}) g
    ), t AS (
        SELECT s.*, cat.{c.triage_sla_days} triage, cat.{c.resolution_sla_days} resolve,
               cat.{c.department} dept, cat.{c.allow_anonymous} anon_ok,
               cat.{c.name_en} name_en, cat.{c.name_es} name_es,
               hd.{h.min_lat} + r_lat * (hd.{h.max_lat} - hd.{h.min_lat}) lat,
               hd.{h.min_lon} + r_lon * (hd.{h.max_lon} - hd.{h.min_lon}) lon,
               {street_address("r_num", "r_street")} addr,
               least({local_time(f"{lit(refs.today)}::date - age", "21600 + r_time * 57600")},
                     now() - interval '10 minutes') created
        FROM s JOIN {c.table} cat ON cat.{c.id} = s.cat JOIN {h.table} hd ON hd.{h.id} = s.hood
    ), v AS (
        SELECT t.*, {local_day("created")} cday,
               CASE WHEN age > 5 AND r_close < CASE WHEN age <= 90 THEN 0.85 ELSE 0.995 END
                    THEN created + make_interval(secs => 86400 * greatest(1, {gauss("resolve * 0.8", "5", "u1", "u2")}))
               END closing,
               CASE WHEN NOT anon_ok OR r_rep < 0.55
                    THEN {first_user} + floor(r_who * {residents})::int END reporter
        FROM t
    ), w AS (
        SELECT v.*,
               CASE WHEN closing <= now() THEN {lit(closed)}
                    WHEN closing IS NOT NULL THEN {lit(RequestStatus.IN_PROGRESS.value)}
                    WHEN age <= 2 AND r_ack >= 0.4 THEN {lit(new)}
                    WHEN r_prog < 0.4 THEN {lit(RequestStatus.IN_PROGRESS.value)}
                    ELSE {lit(RequestStatus.ACKNOWLEDGED.value)} END status,
               CASE WHEN closing <= now() THEN {pick(resolutions, "r_res", "text")} ELSE '' END res
        FROM v
    ), x AS (
        SELECT w.*,
               CASE WHEN status <> {lit(new)} THEN least(
                   created + make_interval(secs => (2 + r_ackh * 58) * 3600),
                   coalesce(closing, now()), now()) END ack
        FROM w
    )"""
    count = insert(
        ServiceRequest,
        {
            "id": "rid",
            "public_id": public_id("rid", salt),
            "category": "cat",
            "status": "status",
            "resolution": "res",
            "description": f"CASE WHEN {language} = 'es' THEN name_es || ' cerca de ' || addr "
            "ELSE name_en || ' near ' || addr END",
            "attributes": "'{}'::jsonb",
            "address": "addr",
            "latitude": "lat",
            "longitude": "lon",
            "neighborhood": "hood",
            "reporter": "reporter",
            "contact_name": "''",
            "contact_email": f"CASE WHEN reporter IS NULL AND r_rep < 0.8 THEN 'reporter' || g || '@{DOMAIN}' ELSE '' END",
            "contact_phone": "''",
            "language": language,
            "reporter_secret": "''",
            "source": pick(
                {Source.WEB.value: 70, Source.OPEN311.value: 10, Source.PHONE.value: 20},
                "r_src",
                "text",
            ),
            "department": "dept",
            "assigned_to": f"CASE WHEN status <> {lit(new)} AND r_assign < 0.6 THEN {one_of(assignees, 'r_staff', 'bigint')} END",
            "status_notes": f"CASE WHEN status = {lit(closed)} THEN {notes} ELSE '' END",
            "created_at": "created",
            "media_url": "''",
            "updated_at": "coalesce(CASE WHEN status = 'closed' THEN closing END, ack, created)",
            "triage_due": "bt.due",
            "resolve_due": "br.due",
            "acknowledged_at": "ack",
            "closed_at": f"CASE WHEN status = {lit(closed)} THEN closing END",
            "reopened_count": f"CASE WHEN status = {lit(closed)} AND r_reopen < 0.03 THEN 1 ELSE 0 END",
        },
        f"""x LEFT JOIN {u.table} usr ON usr.{u.id} = x.reporter
            LEFT JOIN bench_bizday bt ON bt.day = x.cday AND bt.n = x.triage
            LEFT JOIN bench_bizday br ON br.day = x.cday AND br.n = x.resolve""",
        with_=stages,
    )
    record_range(r.table, lo, lo + n - 1, count, refs)
    request_events(lo, lo + n - 1, refs, T(Department))
    return count


def request_events(lo: int, hi: int, refs: Refs, d: T) -> int:
    """RequestEvent, two per request: "received" (by the reporter), then the latest move: the
    status it is in now, or for a report not yet triaged its routing to a department (internal)."""
    from cityhall.constants import EventKind
    from code_enforcement.constants import RequestStatus
    from code_enforcement.models import RequestEvent, ServiceRequest

    r, e = T(ServiceRequest), T(RequestEvent)
    new, closed = lit(RequestStatus.NEW.value), lit(RequestStatus.CLOSED.value)
    status, kind = lit(EventKind.STATUS.value), lit(EventKind.ASSIGNED.value)
    count = insert(
        RequestEvent,
        {
            "request": "rid",
            "kind": "kind",
            "status": "status",
            "public": "public",
            "text": "text",
            "phrase": "''",
            "params": "'{}'::jsonb",
            "note": "''",
            "actor": "actor",
            "created_at": "at",
        },
        f"""(
            SELECT {r.id} rid, {status} kind, {new} status, true public, '' AS text,
                   {r.reporter} actor, {r.created_at} at
            FROM {r.table} WHERE {r.id} BETWEEN {lo} AND {hi}
            UNION ALL
            SELECT sr.{r.id},
                   CASE WHEN sr.{r.status} = {new} THEN {kind} ELSE {status} END,
                   CASE WHEN sr.{r.status} = {new} THEN '' ELSE sr.{r.status} END,
                   sr.{r.status} <> {new},
                   CASE WHEN sr.{r.status} = {new} THEN dep.{d.name} || ' / nobody'
                        ELSE sr.{r.status_notes} END,
                   CASE WHEN sr.{r.status} = {new} THEN NULL ELSE sr.{r.assigned_to} END,
                   CASE WHEN sr.{r.status} = {new} THEN sr.{r.created_at} + interval '2 minutes'
                        WHEN sr.{r.status} = {closed} THEN sr.{r.closed_at}
                        WHEN sr.{r.status} = {lit(RequestStatus.ACKNOWLEDGED.value)}
                        THEN sr.{r.acknowledged_at}
                        ELSE least(sr.{r.acknowledged_at} + interval '1 day', now()) END
            FROM {r.table} sr LEFT JOIN {d.table} dep ON dep.{d.id} = sr.{r.department}
            WHERE sr.{r.id} BETWEEN {lo} AND {hi}
        ) ev""",
    )
    record_range(e.table, 0, 0, count, refs)
    return count


# --- The build -----------------------------------------------------------------------------------


def step(
    name: str, builder: Callable[[Plan, Refs], int], plan: Plan, refs: Refs, log: Log
) -> float:
    """One builder in its own transaction, commits not waited for, random() seeded by name."""
    started = time.monotonic()
    with transaction.atomic():
        run("SET LOCAL synchronous_commit = off")
        run("SELECT setseed(%(seed)s)", {"seed": (zlib.crc32(name.encode()) / 2**32) * 2 - 1})
        count = builder(plan, refs)
    seconds = time.monotonic() - started
    log(f"{name:<22}{count:>12,} rows {seconds:>7.1f}s")
    return seconds


def build(plan: Plan, log: Log = print) -> dict[str, tuple[int, float]]:
    """Fill the database at `plan`'s scale (on top of the demo's reference data, which must be
    loaded) and record the build. Returns {table: (rows, seconds of the step that filled it)}."""
    started = time.monotonic()
    ensure_tables()
    refs = references()
    business_days(refs)
    builders = [
        ("residents", build_residents),
        ("alert subscriptions", build_subscriptions),
        ("service requests", build_requests),
        ("code cases", build_cases),
        ("permit applications", build_permits),
        ("KPI roll-ups", build_rollups),
    ]
    report: dict[str, tuple[int, float]] = {}
    for name, builder in builders:
        before = set(refs.ranges)
        seconds = step(name, builder, plan, refs, log)
        for table in refs.ranges.keys() - before:
            report[table] = (refs.ranges[table][2], seconds)
    finish(refs, log)
    elapsed = time.monotonic() - started
    run(f"DELETE FROM {MARKER_TABLE}")
    run(
        f"INSERT INTO {MARKER_TABLE} (scale, built_at, seconds) VALUES (%(s)s, now(), %(t)s)",
        {"s": plan.scale, "t": round(elapsed, 1)},
    )
    return report


def finish(refs: Refs, log: Log) -> None:
    """Sequences past every id (reserved blocks already are; identity columns filled by
    default are too, this is belt and braces), then fresh planner statistics."""
    started = time.monotonic()
    tables = [table for table in refs.ranges if table in connection.introspection.table_names()]
    for table in tables:
        sequence = scalar("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        if sequence:
            run(
                f"SELECT setval('{sequence}', greatest((SELECT coalesce(max(id), 1) FROM {table}), "
                f"(SELECT last_value FROM {sequence})))"
            )
    run("DROP TABLE IF EXISTS bench_bizday")
    for table in tables:
        run(f"ANALYZE {table}")
    log(f"{'sequences, ANALYZE':<22}{'':>17} {time.monotonic() - started:>7.1f}s")


# --- Record numbers ------------------------------------------------------------------------------


def sequence_bases(keys: dict[str, tuple[str, str, str]]) -> dict[str, int]:
    """For each sequence key, the last number taken: the larger of the sequence row and the
    highest number already in the table ({key: (table, column, number prefix)})."""
    from cityhall.models import NumberSequence

    taken = dict(NumberSequence.objects.filter(key__in=keys).values_list("key", "last"))
    bases = {}
    for key, (table, column, prefix) in keys.items():
        highest = scalar(
            f"SELECT coalesce(max(substr({column}, %(start)s)::int), 0) FROM {table} "
            f"WHERE {column} LIKE %(pattern)s AND substr({column}, %(start)s) ~ '^[0-9]+$'",
            {"start": len(prefix) + 1, "pattern": prefix + "%"},
        )
        bases[key] = max(taken.get(key, 0), highest)
    return bases


def sequences_advance(table: str, column: str, lo: int, hi: int, key: Callable[[str], str]) -> None:
    """`set_at_least` for every sequence the generated numbers used, so the app's next number
    comes after them. `key` maps a number's prefix ("BLD-2025", "CE-2025") to its sequence."""
    from cityhall.numbering import set_at_least

    for prefix, last in rows(
        f"SELECT regexp_replace({column}, '-[0-9]+$', ''), "
        f"max(substring({column} from '[0-9]+$')::int) FROM {table} "
        f"WHERE id BETWEEN {lo} AND {hi} AND {column} IS NOT NULL GROUP BY 1"
    ):
        set_at_least(key(prefix), last)


# --- Code cases ----------------------------------------------------------------------------------

RECENT_CASES = {"open": 10, "inspection_scheduled": 15, "violation_confirmed": 25,
                "notice_issued": 30, "reinspection": 20}  # fmt: skip
OLDER_CASES = {"closed": 55, "complied": 20, "escalated": 17, "no_violation": 8}


def case_sources(plan: Plan, refs: Refs) -> int:
    """Temp table bench_case: the requests that opened cases (property categories, triaged),
    each with its case's number, status and dates decided once for all the case's tables."""
    from cityhall.numbering import case_sequence
    from cityhall.roles import Role
    from code_enforcement.constants import CaseStatus
    from code_enforcement.models import CodeCase, ServiceCategory, ServiceRequest

    # The statuses are the app's: a renamed choice fails here, not in the data.
    for status in (*RECENT_CASES, *OLDER_CASES):
        CaseStatus(status)
    r, c, k = T(ServiceRequest), T(ServiceCategory), T(CodeCase)
    lo, hi, _count = refs.ranges[r.table]
    years = range(refs.today.year - 4, refs.today.year + 1)
    bases = sequence_bases({case_sequence(y): (k.table, k.number, f"CE-{y}-") for y in years})
    base_rows = ", ".join(f"({y}, {bases[case_sequence(y)]})" for y in years)
    inspectors = refs.staff[Role.CODE_INSPECTOR.value]
    supervisors = refs.staff[Role.CODE_SUPERVISOR.value]
    run("DROP TABLE IF EXISTS bench_case")
    run(f"""
        CREATE TEMP TABLE bench_case AS
        WITH chosen AS (
            SELECT sr.{r.id} rid, sr.{r.address} addr, sr.{r.latitude} lat, sr.{r.longitude} lon,
                   sr.{r.neighborhood} hood,
                   least(sr.{r.created_at} + interval '2 days', now() - interval '1 hour') opened
            FROM {r.table} sr JOIN {c.table} cat ON cat.{c.id} = sr.{r.category}
            WHERE sr.{r.id} BETWEEN {lo} AND {hi} AND cat.{c.opens_cases}
              AND sr.{r.status} <> 'new'
            ORDER BY random() LIMIT {plan.cases}
        ), numbered AS (
            SELECT chosen.*, {local_day("opened")} oday,
                   row_number() OVER (ORDER BY opened, rid) k,
                   extract(year FROM {local_day("opened")})::int yr,
                   now() - opened < interval '60 days' recent,
                   random() r_status, random() r_path, random() r_lang, random() r_own1,
                   random() r_own2, random() r_fix, random() r_rep, random() r_close,
                   random() r_type, random() r_sev, random() r_insp, random() r_when
            FROM chosen
        ), decided AS (
            SELECT numbered.*,
                   b.base + row_number() OVER (PARTITION BY numbered.yr ORDER BY opened, rid) seq,
                   CASE WHEN recent THEN {pick(RECENT_CASES, "r_status", "text")}
                        ELSE {pick(OLDER_CASES, "r_status", "text")} END status,
                   CASE WHEN r_path < 0.68 THEN 'complied' WHEN r_path < 0.92 THEN 'escalated'
                        ELSE 'no_violation' END path,
                   {one_of(inspectors, "r_insp", "bigint")} inspector,
                   {one_of(supervisors, "r_own2", "bigint")} opened_by
            FROM numbered JOIN (VALUES {base_rows}) b(yr, base) ON b.yr = numbered.yr
        )
        SELECT decided.*,
               status NOT IN ('open', 'inspection_scheduled', 'no_violation')
                 AND NOT (status = 'closed' AND path = 'no_violation') has_violation,
               status = 'escalated' OR (status = 'closed' AND path = 'escalated') fined,
               status = 'complied' OR (status = 'closed' AND path = 'complied') corrected,
               status = 'no_violation' OR (status = 'closed' AND path = 'no_violation') cleared,
               CASE WHEN status = 'closed' THEN least(opened + make_interval(days => 30 + floor(r_close * 60)::int), now() - interval '30 minutes') END closed,
               oday + 20 comply_by
        FROM decided
    """)
    return scalar("SELECT count(*) FROM bench_case")


def build_cases(plan: Plan, refs: Refs) -> int:
    """code_enforcement.CodeCase opened from generated requests (which then point at them),
    with their Violation (every case past the first inspection that found one), an internal
    timeline (CaseEvent: opened, then the current status) and the inspection (CaseInspection)."""
    from cityhall.constants import EventKind
    from cityhall.numbering import case_sequence
    from code_enforcement.constants import InspectionKind, InspectionResult, Severity
    from code_enforcement.models import (
        CaseEvent,
        CaseInspection,
        CodeCase,
        ServiceRequest,
        Violation,
    )

    n = case_sources(plan, refs)
    k, r = T(CodeCase), T(ServiceRequest)
    lo = reserve(CodeCase, n)
    case_id = f"{lo} + k - 1"
    count = insert(
        CodeCase,
        {
            "id": case_id,
            "number": f"'CE-' || yr || '-' || {padded('seq', 5)}",
            "status": "status",
            "address": "addr",
            "latitude": "lat",
            "longitude": "lon",
            "neighborhood": "hood",
            "owner_name": f"{one_of(FIRST_NAMES, 'r_own1')} || ' ' || {one_of(LAST_NAMES, 'r_own2')}",
            "owner_mailing_address": "addr || chr(10) || 'Riverbend, CA 95000'",
            "owner_email": "''",
            "owner_language": "CASE WHEN r_lang < 0.55 THEN 'es' ELSE 'en' END",
            "inspector": "inspector",
            "opened_by": "opened_by",
            "opened_at": "opened",
            "comply_by": "CASE WHEN has_violation THEN comply_by END",
            "fine_amount": "CASE WHEN fined THEN 250 + 50 * floor(r_fix * 10) END",
            "fine_due": "CASE WHEN fined THEN comply_by + 30 END",
            "closed_at": "closed",
            "repeat_violation": "r_rep < 0.08",
        },
        "bench_case",
    )
    violations = insert(
        Violation,
        {
            "case": case_id,
            "violation_type": one_of(refs.violation_types or [0], "r_type", "bigint"),
            "description": "'Found at inspection'",
            "description_es": "'Encontrado en la inspección'",
            "severity": pick(
                {
                    Severity.LOW.value: 30,
                    Severity.MEDIUM.value: 45,
                    Severity.HIGH.value: 20,
                    Severity.CRITICAL.value: 5,
                },
                "r_sev",
                "text",
            ),
            "comply_by": "comply_by",
            "corrected_at": "CASE WHEN corrected THEN least(opened + make_interval(days => 7 + floor(r_fix * 40)::int), coalesce(closed, now())) END",
            "recorded_by": "inspector",
            "created_at": "least(opened + interval '5 days', now())",
        },
        "bench_case WHERE has_violation",
    )
    record_range(T(Violation).table, 0, 0, violations, refs)
    status = lit(EventKind.STATUS.value)
    events = insert(
        CaseEvent,
        {
            "case": "cid", "kind": status, "status": "st", "public": "false", "text": "txt",
            "phrase": "''", "params": "'{}'::jsonb", "note": "''", "actor": "who", "created_at": "at",
        },
        f"""(SELECT {case_id} cid, 'open' st, 'Opened from requests' txt, opened_by who, opened at
             FROM bench_case
             UNION ALL
             SELECT {case_id}, status, '', inspector,
                    coalesce(closed, least(opened + interval '5 days', now()))
             FROM bench_case WHERE status <> 'open') ev""",
    )  # fmt: skip
    record_range(T(CaseEvent).table, 0, 0, events, refs)
    when = (
        f"CASE WHEN recent THEN {lit(refs.today)}::date + floor(r_when * 11)::int ELSE oday + 5 END"
    )
    done = f"({when}) < {lit(refs.today)}::date AND status NOT IN ('inspection_scheduled', 'reinspection')"
    inspections = insert(
        CaseInspection,
        {
            "case": case_id,
            "kind": f"CASE WHEN status = 'reinspection' THEN {lit(InspectionKind.REINSPECTION.value)} ELSE {lit(InspectionKind.INITIAL.value)} END",
            "scheduled_for": when,
            "inspector": "inspector",
            "result": f"""CASE WHEN NOT ({done}) THEN ''
                WHEN cleared THEN {lit(InspectionResult.NO_VIOLATION.value)}
                WHEN corrected THEN {lit(InspectionResult.COMPLIED.value)}
                ELSE {lit(InspectionResult.VIOLATION.value)} END""",
            "notes": "''",
            "photo": "''",
            "completed_at": f"CASE WHEN {done} THEN {local_time(when, '39600')} END",
        },
        "bench_case",
    )
    record_range(T(CaseInspection).table, 0, 0, inspections, refs)
    run(f"UPDATE {r.table} SET {r.case} = {case_id} FROM bench_case WHERE {r.id} = bench_case.rid")
    sequences_advance(
        k.table, k.number, lo, lo + n - 1, lambda prefix: case_sequence(int(prefix[3:]))
    )
    record_range(k.table, lo, lo + n - 1, count, refs)
    run("DROP TABLE bench_case")
    return count


# --- Permit applications -------------------------------------------------------------------------

CONDITIONS = ("Work hours are 7 a.m. to 6 p.m. on weekdays.",
              "El horario de trabajo es de 7 a. m. a 6 p. m. entre semana.")  # fmt: skip
DENIAL = ("The project does not meet the setback requirements of the zoning code.",
          "El proyecto no cumple con los retiros que exige el código de zonificación.")  # fmt: skip
INFO_NEEDED = ("Please upload a site plan that shows the property lines and setbacks.",
               "Suba un plano del sitio que muestre los límites de la propiedad y los retiros.")  # fmt: skip
BUSINESSES = ["Bakery", "Taquería", "Auto Repair", "Consulting", "Home Care", "Landscaping",
              "Hair Salon", "Food Truck", "Tutoring", "Cleaning Services"]  # fmt: skip


def permit_sources(plan: Plan, refs: Refs) -> int:
    """Temp table bench_app: every generated application's type, applicant, place, status and
    dates, decided once so the application and its documents, payments, events and inspections
    agree. Status follows age: recent ones are open, older ones decided, issued permits expire
    after their type's validity (a few days' worth are left issued for the nightly jobs)."""
    from cityhall.models import Neighborhood, User
    from cityhall.numbering import permit_sequence
    from cityhall.roles import Role
    from permits.constants import Status
    from permits.demo import CONTRACTORS
    from permits.models import Application, PermitType

    p, h, u = T(PermitType), T(Neighborhood), T(User)
    inspections = T(PermitType.inspection_types.through)
    first_user, residents = refs.residents
    years = range(refs.today.year - 4, refs.today.year + 1)
    codes = dict(PermitType.objects.values_list("pk", "code"))
    a = T(Application)
    bases = sequence_bases(
        {
            permit_sequence(code, y): (a.table, a.number, f"{code}-{y}-")
            for code in codes.values()
            for y in years
        }
    )
    base_rows = ", ".join(
        f"({pk}, {y}, {bases[permit_sequence(code, y)]})"
        for pk, code in codes.items()
        for y in years
    )
    S = {status.name: lit(status.value) for status in Status}
    opening = {
        Status.SUBMITTED.value: 40,
        Status.IN_REVIEW.value: 45,
        Status.INFO_REQUESTED.value: 15,
    }
    backlog = {Status.IN_REVIEW.value: 70, Status.INFO_REQUESTED.value: 30}
    today = f"{lit(refs.today)}::date"
    run("DROP TABLE IF EXISTS bench_app")
    run(f"""
        CREATE TEMP TABLE bench_app AS
        WITH s AS (
            SELECT g, {first_user} + floor(random() * {residents})::bigint applicant,
                   {pick(refs.permit_types, "random()")} ptype, {pick(refs.neighborhoods, "random()")} hood,
                   floor(random() * {HISTORY_DAYS})::int age,
                   random() r_draft, random() r_time, random() r_prep, random() u1, random() u2,
                   random() r_s, random() r_open, random() r_iss, random() r_fin, random() r_fin2,
                   random() r_lat, random() r_lon, random() r_num, random() r_street, random() r_val,
                   random() r_sq, random() r_con, random() r_apn, random() r_online, random() r_cond,
                   random() r_biz, random() r_pay, random() r_ref, random() r_insp, random() r_when,
                   random() r_staff
            FROM generate_series(1, {plan.permits}) g
        ), t AS (
            SELECT s.*, pt.{p.code} code, pt.{p.kind} kind, pt.{p.fee_kind} fee_kind,
                   pt.{p.fee_amount} fee_amount, pt.{p.minimum_fee} minimum_fee,
                   pt.{p.review_sla_days} sla, pt.{p.validity_days} validity,
                   pt.{p.renewable} renewable, pt.{p.grace_days} grace, pt.{p.blds_type} blds_type,
                   pt.{p.blds_class} blds_class, pt.{p.name_en} type_en,
                   fi.first_inspection, fi.first_inspection IS NOT NULL has_inspections,
                   hd.{h.min_lat} + r_lat * (hd.{h.max_lat} - hd.{h.min_lat}) lat,
                   hd.{h.min_lon} + r_lon * (hd.{h.max_lon} - hd.{h.min_lon}) lon,
                   {street_address("r_num", "r_street")} addr,
                   usr.{u.first_name} || ' ' || usr.{u.last_name} applicant_name,
                   usr.{u.last_name} last_name, usr.{u.phone} phone,
                   CASE WHEN r_draft < 0.04 THEN NULL ELSE least(
                       {local_time(f"{today} - age", "28800 + r_time * 32400")},
                       now() - interval '15 minutes') END submitted,
                   greatest(1, {gauss("pt." + p.review_sla_days + " * 1.2", "pt." + p.review_sla_days + " * 0.5", "u1", "u2")}) review_days
            FROM s JOIN {p.table} pt ON pt.{p.id} = s.ptype
            JOIN {h.table} hd ON hd.{h.id} = s.hood
            JOIN {u.table} usr ON usr.{u.id} = s.applicant
            LEFT JOIN (SELECT {inspections.permittype} pid, min({inspections.inspectiontype}) first_inspection
                       FROM {inspections.table} GROUP BY 1) fi ON fi.pid = s.ptype
        ), v AS (
            SELECT t.*, {local_day("submitted")} sday,
                   extract(year FROM {local_day("submitted")})::int yr,
                   CASE WHEN submitted IS NULL THEN {S["DRAFT"]}
                        WHEN age < sla * 1.4 THEN CASE WHEN r_s < 0.03 THEN {S["WITHDRAWN"]}
                                                       ELSE {pick(opening, "r_open", "text")} END
                        WHEN r_s < 0.05 THEN {S["DENIED"]}
                        WHEN r_s < 0.08 THEN {S["WITHDRAWN"]}
                        WHEN r_s < 0.09 THEN {pick(backlog, "r_open", "text")}
                        WHEN age < 30 AND r_s < 0.3 THEN {S["APPROVED"]}
                        ELSE {S["ISSUED"]} END first_status
            FROM t
        ), w AS (
            SELECT v.*,
                   CASE WHEN first_status IN ({S["APPROVED"]}, {S["DENIED"]}, {S["ISSUED"]})
                        THEN least(submitted + make_interval(secs => review_days * 86400), now() - interval '1 hour') END decided
            FROM v
        ), x AS (
            SELECT w.*,
                   CASE WHEN first_status = {S["ISSUED"]}
                        THEN least(decided + make_interval(secs => r_iss * 3 * 86400), now() - interval '30 minutes') END issued
            FROM w
        )
        SELECT x.*, {local_day("issued")} + validity expires,
               CASE WHEN first_status <> {S["ISSUED"]} THEN first_status
                    WHEN {local_day("issued")} + validity < {today} - grace - 3
                    THEN CASE WHEN renewable OR NOT has_inspections THEN {S["EXPIRED"]} ELSE {S["FINALED"]} END
                    WHEN has_inspections AND r_fin < 0.25 AND age > 90 THEN {S["FINALED"]}
                    ELSE {S["ISSUED"]} END status,
               b.base + row_number() OVER (PARTITION BY x.ptype, x.yr, submitted IS NULL ORDER BY submitted, g) seq,
               CASE x.fee_kind WHEN 'per_valuation' THEN (8000 + 500 * floor(r_val * 345))::numeric END valuation,
               CASE x.fee_kind WHEN 'per_unit' THEN (20 + floor(r_val * 280))::numeric END units,
               {one_of([c[0] for c in CONTRACTORS], "r_con")} contractor,
               {one_of([c[1] for c in CONTRACTORS], "r_con")} contractor_license,
               {one_of(refs.staff[Role.PLAN_REVIEWER.value], "r_staff", "bigint")} reviewer,
               {one_of(refs.staff[Role.PERMIT_TECHNICIAN.value], "r_staff", "bigint")} technician,
               {one_of(refs.staff[Role.CODE_INSPECTOR.value], "r_staff", "bigint")} inspector
        FROM x LEFT JOIN (VALUES {base_rows}) b(ptype, yr, base) ON b.ptype = x.ptype AND b.yr = x.yr
    """)
    return scalar("SELECT count(*) FROM bench_app")


def build_permits(plan: Plan, refs: Refs) -> int:
    """Permit applications and what hangs off them, plain indexes built afterwards."""
    from permits.models import Application, Document, TimelineEvent

    with indexes_deferred(Application, Document, TimelineEvent):
        return insert_permits(plan, refs)


def insert_permits(plan: Plan, refs: Refs) -> int:
    """permits.Application across the permit types (numbered as `application_submit` numbers
    them, the sequences advanced after), with what hangs off them: two Document rows per
    submitted application, Payment for the paid ones, 2-3 TimelineEvent rows, InfoRequest for
    those waiting on the applicant and Inspection for some issued permits."""
    from cityhall.numbering import permit_sequence
    from permits.constants import Status
    from permits.models import Application

    n = permit_sources(plan, refs)
    a = T(Application)
    lo = reserve(Application, n)
    S = {status.name: lit(status.value) for status in Status}
    decided = f"status IN ({S['APPROVED']}, {S['ISSUED']}, {S['FINALED']}, {S['EXPIRED']})"
    fee = """round(greatest(CASE fee_kind WHEN 'per_unit' THEN fee_amount * units
                                      WHEN 'per_valuation' THEN fee_amount * valuation / 1000
                                      ELSE fee_amount END, minimum_fee), 2)"""
    count = insert(
        Application,
        {
            "id": f"{lo} + g - 1",
            "public_id": "gen_random_uuid()",
            "number": f"CASE WHEN seq IS NOT NULL THEN code || '-' || yr || '-' || {padded('seq', 6)} END",
            "permit_type": "ptype",
            "applicant": "applicant",
            "status": "status",
            "applicant_name": "applicant_name",
            "applicant_phone": "phone",
            "business_name": f"CASE WHEN kind = 'license' THEN last_name || ' ' || {one_of(BUSINESSES, 'r_biz')} ELSE '' END",
            "address": "addr",
            "zip_code": "'95000'",
            "neighborhood": "hood",
            "latitude": "lat",
            "longitude": "lon",
            "description": "type_en || ' at ' || addr",
            "valuation": "valuation",
            "units": "units",
            "total_sq_ft": "CASE WHEN blds_type <> '' THEN 120 + 10 * floor(r_sq * 229) END",
            "housing_units": "CASE WHEN blds_type <> '' AND blds_class = 'Residential' THEN 1 END",
            "parcel_number": """CASE WHEN blds_type <> '' THEN lpad((1 + floor(r_apn * 999))::text, 3, '0')
                || '-' || lpad((1 + floor(r_sq * 999))::text, 3, '0')
                || '-' || lpad((1 + floor(r_val * 99))::text, 2, '0') ELSE '' END""",
            "contractor_name": "CASE WHEN blds_type <> '' THEN contractor ELSE '' END",
            "contractor_license": "CASE WHEN blds_type <> '' THEN contractor_license ELSE '' END",
            "answers": "'{}'::jsonb",
            "declared_at": "submitted",
            "online": "r_online < 0.72",
            "fee_total": f"CASE WHEN submitted IS NULL THEN 0 ELSE {fee} END",
            "conditions": f"CASE WHEN {decided} AND r_cond < 0.3 THEN {lit(CONDITIONS[0])} ELSE '' END",
            "conditions_es": f"CASE WHEN {decided} AND r_cond < 0.3 THEN {lit(CONDITIONS[1])} ELSE '' END",
            "decision_reason": f"CASE WHEN status = {S['DENIED']} THEN {lit(DENIAL[0])} ELSE '' END",
            "decision_reason_es": f"CASE WHEN status = {S['DENIED']} THEN {lit(DENIAL[1])} ELSE '' END",
            "assigned_reviewer": f"CASE WHEN status NOT IN ({S['DRAFT']}, {S['WITHDRAWN']}) THEN reviewer END",
            "created_at": "coalesce(submitted - make_interval(secs => r_prep * 5 * 86400), now() - make_interval(days => age))",
            "updated_at": "greatest(submitted, decided, issued, now() - make_interval(days => age))",
            "submitted_at": "submitted",
            "due_at": "bd.due",
            "decided_at": f"CASE WHEN {decided} OR status = {S['DENIED']} THEN decided END",
            "issued_at": "issued",
            "expires_at": "expires",
            "finaled_at": f"""CASE WHEN status = {S["FINALED"]} THEN least(issued + make_interval(
                days => least(20 + floor(r_fin2 * 100)::int, validity - 1)), now() - interval '1 hour') END""",
        },
        "bench_app LEFT JOIN bench_bizday bd ON bd.day = bench_app.sday AND bd.n = bench_app.sla",
    )
    record_range(a.table, lo, lo + n - 1, count, refs)
    run(f"UPDATE bench_app SET g = {lo} + g - 1")  # from here on, g is the application's id
    permit_documents(refs)
    permit_payments(refs)
    permit_events(refs)
    permit_inspections(refs)
    sequences_advance(
        a.table, a.number, lo, lo + n - 1,
        lambda prefix: permit_sequence(prefix.split("-")[0], int(prefix.split("-")[1])),
    )  # fmt: skip
    run("DROP TABLE bench_app")
    return count


PAID = "status IN ('issued', 'finaled', 'expired')"  # fees are paid before a permit is issued
PAID_AT = "greatest(decided, issued - interval '1 hour')"
PAYMENT_METHODS = {"card": 70, "check": 15, "cash": 10, "waiver": 5}


def permit_documents(refs: Refs) -> int:
    """permits.Document: two per submitted application, for the type's first two required
    documents, all pointing at the one sample PDF."""
    from permits.models import Document, DocumentRequirement

    size = sample_pdf()
    q = T(DocumentRequirement)
    count = insert(
        Document,
        {
            "application": "g",
            "requirement": "req",
            "file": lit(PDF_NAME),
            "original_name": "coalesce(lower(replace(req_name, ' ', '-')), 'document-' || k) || '.pdf'",
            "content_type": "'application/pdf'",
            "size": str(size),
            "uploaded_by": "applicant",
            "uploaded_at": "submitted - make_interval(mins => 10 + k)",
        },
        f"""bench_app CROSS JOIN generate_series(1, 2) k
            LEFT JOIN (SELECT {q.permit_type} pid, {q.id} req, {q.name_en} req_name,
                              row_number() OVER (PARTITION BY {q.permit_type} ORDER BY {q.position}, {q.id}) nth
                       FROM {q.table}) dr ON dr.pid = bench_app.ptype AND dr.nth = k
            WHERE status <> 'draft'""",
    )
    record_range(T(Document).table, 0, 0, count, refs)
    return count


def permit_payments(refs: Refs) -> int:
    """permits.Payment: the fees of every issued (or since finaled or expired) permit, paid in
    full by card, check or cash, or waived; recorded by a permit technician."""
    from permits.constants import PaymentMethod
    from permits.models import Application, Payment

    for method in PAYMENT_METHODS:
        PaymentMethod(method)
    run("ALTER TABLE bench_app ADD COLUMN method text, ADD COLUMN fee numeric")
    run(f"UPDATE bench_app SET method = {pick(PAYMENT_METHODS, 'r_pay', 'text')}")
    app = T(Application)
    run(
        f"UPDATE bench_app SET fee = a.{app.fee_total} FROM {app.table} a WHERE a.{app.id} = bench_app.g"
    )
    count = insert(
        Payment,
        {
            "application": "g",
            "amount": "fee",
            "method": "method",
            "reference": """CASE method WHEN 'check' THEN 'Check ' || (1000 + floor(r_ref * 9000))::int
                                        WHEN 'cash' THEN 'R-' || g WHEN 'waiver' THEN 'Hardship waiver'
                                        ELSE '' END""",
            "recorded_by": "technician",
            "created_at": PAID_AT,
        },
        f"bench_app WHERE {PAID} AND fee > 0",
    )
    record_range(T(Payment).table, 0, 0, count, refs)
    return count


def permit_events(refs: Refs) -> int:
    """permits.TimelineEvent, as the workflow writes them: "submitted" (by the applicant), the
    move that led to the current status (or, while still submitted, the internal assignment),
    and for paid permits the payment, worded by phrase in the reader's language. Also the
    InfoRequest of each application waiting on its applicant."""
    from cityhall.constants import EventKind
    from cityhall.models import User
    from cityhall.timeline import both, word
    from permits.constants import PaymentMethod
    from permits.models import Application, InfoRequest, TimelineEvent

    a, u = T(Application), T(User)
    labels = {method.value: both(method.label) for method in PaymentMethod}
    amount = "'$' || to_char(fee, 'FM999,999,990.00')"
    # The phrase's English, spelled out in SQL: checked against cityhall.timeline once here.
    assert (
        word("payment", {"method": labels["card"], "amount": "$1,234.50"}, "en")
        == "Card: $1,234.50"
    )
    at = f"""CASE b.status
        WHEN 'submitted' THEN least(submitted + interval '2 hours', now())
        WHEN 'in_review' THEN least(submitted + interval '1 day', now())
        WHEN 'info_requested' THEN least(submitted + interval '2 days', now())
        WHEN 'approved' THEN decided WHEN 'denied' THEN decided WHEN 'issued' THEN issued
        WHEN 'finaled' THEN ap.{a.finaled_at}
        WHEN 'expired' THEN least({local_time("expires + grace + 1", "7200")}, now())
        ELSE least(submitted + make_interval(days => 1 + floor(r_when * 20)::int), now()) END"""
    spanish = f"""CASE b.status WHEN 'info_requested' THEN {lit(INFO_NEEDED[1])}
        WHEN 'denied' THEN {lit(DENIAL[1])} ELSE nullif(ap.{a.conditions_es}, '') END"""
    count = insert(
        TimelineEvent,
        {
            "application": "app", "kind": "kind", "status": "st", "public": "pub", "text": "txt",
            "phrase": "phrase", "params": "params", "note": "''", "actor": "who", "created_at": "at",
        },
        f"""(
            SELECT g app, {lit(EventKind.STATUS.value)} kind, 'submitted' st, true pub, '' txt,
                   '' phrase, '{{}}'::jsonb params, applicant who, submitted at
            FROM bench_app WHERE status <> 'draft'
            UNION ALL
            SELECT g, CASE WHEN b.status = 'submitted' THEN {lit(EventKind.ASSIGNED.value)}
                           ELSE {lit(EventKind.STATUS.value)} END,
                   CASE WHEN b.status = 'submitted' THEN '' ELSE b.status END,
                   b.status <> 'submitted',
                   CASE b.status
                       WHEN 'submitted' THEN 'Assigned to ' || coalesce(nullif(trim(rv.{u.first_name} || ' ' || rv.{u.last_name}), ''), rv.{u.email})
                       WHEN 'info_requested' THEN {lit(INFO_NEEDED[0])}
                       WHEN 'denied' THEN {lit(DENIAL[0])}
                       WHEN 'approved' THEN ap.{a.conditions} ELSE '' END,
                   '', CASE WHEN {spanish} IS NULL THEN '{{}}'::jsonb
                            ELSE jsonb_build_object('es', {spanish}) END,
                   CASE b.status WHEN 'withdrawn' THEN applicant WHEN 'expired' THEN NULL
                                 WHEN 'issued' THEN technician ELSE reviewer END,
                   {at}
            FROM bench_app b JOIN {a.table} ap ON ap.{a.id} = b.g
            LEFT JOIN {u.table} rv ON rv.{u.id} = b.reviewer
            WHERE b.status <> 'draft'
            UNION ALL
            SELECT g, {lit(EventKind.PAYMENT.value)}, '', true,
                   ({lit(json.dumps(labels))}::jsonb -> method ->> 'en') || ': ' || {amount},
                   'payment',
                   jsonb_build_object('method', {lit(json.dumps(labels))}::jsonb -> method, 'amount', {amount}),
                   technician, {PAID_AT}
            FROM bench_app WHERE {PAID} AND fee > 0
        ) ev""",
    )  # fmt: skip
    record_range(T(TimelineEvent).table, 0, 0, count, refs)
    asked = insert(
        InfoRequest,
        {
            "application": "g",
            "message": lit(INFO_NEEDED[0]),
            "message_es": lit(INFO_NEEDED[1]),
            "requested_by": "reviewer",
            "requested_at": "least(submitted + interval '2 days', now())",
            "answer": "''",
        },
        "bench_app WHERE status = 'info_requested'",
    )
    record_range(T(InfoRequest).table, 0, 0, asked, refs)
    return count


def permit_inspections(refs: Refs) -> int:
    """permits.Inspection for half the issued permits that need inspections: the first required
    one, passed if the permit was issued more than two weeks ago, else requested or scheduled."""
    from permits.constants import InspectionStatus
    from permits.models import Inspection

    old = "issued < now() - interval '14 days'"
    count = insert(
        Inspection,
        {
            "application": "g",
            "inspection_type": "first_inspection",
            "status": f"""CASE WHEN {old} THEN {lit(InspectionStatus.PASSED.value)}
                WHEN r_when < 0.5 THEN {lit(InspectionStatus.REQUESTED.value)}
                ELSE {lit(InspectionStatus.SCHEDULED.value)} END""",
            "preferred_dates": "CASE WHEN r_when < 0.5 THEN 'Any weekday morning' ELSE '' END",
            "scheduled_for": f"""CASE WHEN {old} THEN {local_day("issued")} + 7
                WHEN r_when < 0.5 THEN NULL
                ELSE {lit(refs.today)}::date + 1 + floor(r_when * 9)::int END""",
            "inspector": f"CASE WHEN {old} OR r_when >= 0.5 THEN inspector END",
            "notes": f"CASE WHEN {old} THEN 'Passed.' ELSE '' END",
            "corrections": "''",
            "requested_at": "least(issued + interval '2 days', now())",
            "completed_at": f"CASE WHEN {old} THEN {local_time(local_day('issued') + ' + 7', '36000')} END",
        },
        "bench_app WHERE status = 'issued' AND has_inspections AND r_insp < 0.5",
    )
    record_range(T(Inspection).table, 0, 0, count, refs)
    return count


# --- KPI roll-ups --------------------------------------------------------------------------------
# kpis.metrics computes each metric with the ORM, a query per day for the snapshots; the same
# definitions are spelled out here in set-based SQL over the whole window at once (the demo's
# rows and the generated ones alike). tests/test_bench_scale_data.py checks every metric against
# the app's own computation.

ROLLUP_METRICS = {
    "requests_received", "requests_closed", "closed_within_sla", "median_days_to_close",
    "p90_days_to_close", "avg_days_to_acknowledge", "open_backlog", "reopen_rate",
    "voluntary_compliance", "median_days_to_compliance", "repeat_violations",
    "applications_received", "success_rate", "median_days_to_issue", "decided_within_sla",
    "submitted_online", "renewals_on_time", "fee_revenue", "alert_subscribers",
    "households_reached", "delivery_success", "minutes_to_deliver", "median_days_to_decision",
    "first_response_hours", "alert_reach", "fees_paid_online",
}  # fmt: skip
ROLLUP_COLUMNS = "metric, day, dimension, value, numerator, denominator, samples, computed_at"


def rollup_insert(key: str, select: str) -> int:
    """Insert roll-up rows from `select`, which yields (day, dimension, value, numerator,
    denominator, samples)."""
    from kpis.models import DailyRollup

    k = T(DailyRollup)
    columns = ", ".join(getattr(k, name) for name in ROLLUP_COLUMNS.split(", "))
    return run(f"INSERT INTO {k.table} ({columns}) SELECT {lit(key)}, x.*, now() FROM ({select}) x")


def grouping(dims: dict[str, str]) -> tuple[str, str, str]:
    """GROUPING SETS over the day alone and the day with each dimension, and the dimension name
    and value each result row belongs to ("—" for an empty value, as kpis.metrics writes)."""
    names = [f"v{i}" for i in range(len(dims))]
    sets = ", ".join(["(d)", *(f"(d, {name})" for name in names)])
    dimension = " ".join(
        f"WHEN GROUPING({n}) = 0 THEN {lit(dim)}" for n, dim in zip(names, dims, strict=True)
    )
    value = " ".join(
        f"WHEN GROUPING({n}) = 0 THEN left(coalesce(nullif({n}::text, ''), '—'), 120)"
        for n in names
    )
    return (
        f"GROUPING SETS ({sets})",
        f"CASE {dimension} ELSE '' END" if dims else "''",
        f"CASE {value} ELSE '' END" if dims else "''",
    )


def inner(
    source: str, day: str, dims: dict[str, str], extra: str, where: str, start: date, end: date
) -> str:
    columns = ", ".join(
        [f"{local_day(day)} d", *(f"{expr} v{i}" for i, expr in enumerate(dims.values())), extra]
    )
    return f"SELECT {columns} FROM {source} WHERE ({where}) AND {local_day(day)} BETWEEN {lit(start)} AND {lit(end)}"


def rollup_grouped(key: str, source: str, day: str, dims: dict[str, str], window: tuple[date, date], *,
                   where: str = "true", extra: str = "1 one", numerator: str = "count(*)",
                   denominator: str = "0") -> int:  # fmt: skip
    """kpis.metrics._grouped: a count (or sum) per day, for the city and per dimension value."""
    sets, dimension, value = grouping(dims)
    return rollup_insert(
        key,
        f"""SELECT d, {dimension}, {value}, coalesce(({numerator})::float8, 0),
                   coalesce(({denominator})::float8, 0), '[]'::jsonb
            FROM ({inner(source, day, dims, extra, where, *window)}) r GROUP BY {sets}""",
    )


def rollup_sampled(key: str, source: str, end: str, begin: str, dims: dict[str, str],
                   window: tuple[date, date], *, where: str = "true", divisor: int = 86400,
                   mean: bool = False) -> int:  # fmt: skip
    """kpis.metrics._sampled: each row's duration (days or minutes, 3 decimals) per day, kept as
    a sorted sample list for medians; `mean` stores sum and count instead, as
    days_to_acknowledge does."""
    sets, dimension, value = grouping(dims)
    duration = f"round((extract(epoch FROM {end} - {begin}) / {divisor})::numeric, 3) dur"
    measures = (
        "sum(dur), count(*), '[]'::jsonb" if mean else "count(*), 0, jsonb_agg(dur ORDER BY dur)"
    )
    return rollup_insert(
        key,
        f"""SELECT d, {dimension}, {value}, {measures}
            FROM ({inner(source, end, dims, duration, f"({where}) AND {end} IS NOT NULL AND {begin} IS NOT NULL", *window)}) r
            GROUP BY {sets}""",
    )


def rollup_requests(window: tuple[date, date]) -> int:
    """The service-request metrics, from one pass that joins each request's dimensions."""
    from cityhall.models import Neighborhood
    from code_enforcement.constants import RequestStatus
    from code_enforcement.models import Department, ServiceCategory, ServiceRequest
    from kpis.metrics import AGING

    r, c, h, d = T(ServiceRequest), T(ServiceCategory), T(Neighborhood), T(Department)
    start, end = window
    run("DROP TABLE IF EXISTS bench_kreq")
    run(f"""
        CREATE TEMP TABLE bench_kreq AS
        SELECT sr.{r.created_at} created, sr.{r.closed_at} closed, sr.{r.acknowledged_at} ack,
               sr.{r.status} status, sr.{r.resolve_due} resolve_due, sr.{r.reopened_count} reopened,
               sr.{r.source} source, cat.{c.code} code, nb.{h.slug} slug, dep.{d.name} dept
        FROM {r.table} sr JOIN {c.table} cat ON cat.{c.id} = sr.{r.category}
        LEFT JOIN {h.table} nb ON nb.{h.id} = sr.{r.neighborhood}
        LEFT JOIN {d.table} dep ON dep.{d.id} = sr.{r.department}
    """)
    dims = {"category": "code", "neighborhood": "slug", "department": "dept"}
    closed = f"status = {lit(RequestStatus.CLOSED.value)}"
    written = rollup_grouped(
        "requests_received", "bench_kreq", "created", {**dims, "channel": "source"}, window
    )
    written += rollup_grouped("requests_closed", "bench_kreq", "closed", dims, window, where=closed)
    written += rollup_grouped(
        "closed_within_sla", "bench_kreq", "closed", dims, window, where=closed,
        extra=f"{local_day('closed')} <= resolve_due ok",
        numerator="count(*) FILTER (WHERE ok)", denominator="count(*)",
    )  # fmt: skip
    for key in ("median_days_to_close", "p90_days_to_close"):
        written += rollup_sampled(
            key, "bench_kreq", "closed", "created", dims, window, where=closed
        )
    written += rollup_sampled(
        "avg_days_to_acknowledge", "bench_kreq", "ack", "created", dims, window, mean=True
    )
    written += rollup_sampled(
        "first_response_hours", "bench_kreq", "ack", "created", dims, window, divisor=3600
    )
    written += rollup_grouped(
        "reopen_rate", "bench_kreq", "closed", dims, window, where=closed,
        extra="reopened > 0 ok", numerator="count(*) FILTER (WHERE ok)", denominator="count(*)",
    )  # fmt: skip
    # The backlog at the end of each day, by age: each request adds one from the day it came
    # in (+ the bucket's lower age) until the day before it closed (or the bucket's upper age).
    buckets = ", ".join(
        ["('', 0, 10000000)", *(f"({lit(label)}, {low}, {high})" for label, low, high in AGING)]
    )
    first, last = lit(start), lit(end)
    written += rollup_insert(
        "open_backlog",
        f"""WITH b(label, low, high) AS (VALUES {buckets}),
            spans AS (
                SELECT label, greatest({local_day("created")} + low, {first}::date) s,
                       least({local_day("created")} + high,
                             coalesce({local_day("closed")} - 1, {last}::date), {last}::date) f
                FROM bench_kreq CROSS JOIN b WHERE {local_day("created")} <= {last}::date
            ), deltas AS (
                SELECT label, day, sum(delta) AS delta FROM (
                    SELECT label, s AS day, 1 AS delta FROM spans WHERE s <= f
                    UNION ALL SELECT label, f + 1, -1 FROM spans WHERE s <= f
                ) m GROUP BY 1, 2
            ), grid AS (
                SELECT b.label, g::date AS day, coalesce(deltas.delta, 0) AS delta
                FROM b CROSS JOIN generate_series({first}::date, {last}::date, interval '1 day') g
                LEFT JOIN deltas ON deltas.label = b.label AND deltas.day = g::date
            )
            SELECT day, CASE WHEN label = '' THEN '' ELSE 'aging' END, label,
                   (sum(delta) OVER (PARTITION BY label ORDER BY day))::float8, 0::float8,
                   '[]'::jsonb
            FROM grid""",
    )
    run("DROP TABLE bench_kreq")
    return written


def rollup_cases_and_permits(window: tuple[date, date]) -> int:
    """The code-case and permit metrics."""
    from cityhall.models import Neighborhood
    from code_enforcement.models import CodeCase, Violation
    from permits.constants import PaymentMethod, Status
    from permits.models import Application, Payment, PermitType

    k, v, h = T(CodeCase), T(Violation), T(Neighborhood)
    a, p, pay = T(Application), T(PermitType), T(Payment)
    cases = f"{k.table} cs LEFT JOIN {h.table} nb ON nb.{h.id} = cs.{k.neighborhood}"
    hood = {"neighborhood": f"nb.{h.slug}"}
    has_violation = f"EXISTS (SELECT 1 FROM {v.table} vi WHERE vi.{v.case} = cs.{k.id})"
    written = rollup_grouped(
        "voluntary_compliance", cases, f"cs.{k.closed_at}", hood, window, where=has_violation,
        extra=f"cs.{k.fine_amount} IS NULL ok", numerator="count(*) FILTER (WHERE ok)",
        denominator="count(*)",
    )  # fmt: skip
    written += rollup_sampled(
        "median_days_to_compliance",
        f"{v.table} vi JOIN {k.table} cs ON cs.{k.id} = vi.{v.case} "
        f"LEFT JOIN {h.table} nb ON nb.{h.id} = cs.{k.neighborhood}",
        f"vi.{v.corrected_at}", f"cs.{k.opened_at}", hood, window,
    )  # fmt: skip
    written += rollup_grouped(
        "repeat_violations",
        cases,
        f"cs.{k.opened_at}",
        hood,
        window,
        where=f"cs.{k.repeat_violation}",
    )
    apps = (
        f"{a.table} ap JOIN {p.table} pt ON pt.{p.id} = ap.{a.permit_type} "
        f"LEFT JOIN {h.table} nb ON nb.{h.id} = ap.{a.neighborhood}"
    )
    dims = {"permit_type": f"pt.{p.code}", "neighborhood": f"nb.{h.slug}"}
    ratio = {"numerator": "count(*) FILTER (WHERE ok)", "denominator": "count(*)"}
    submitted, decided = f"ap.{a.submitted_at}", f"ap.{a.decided_at}"
    written += rollup_grouped("applications_received", apps, submitted, dims, window)
    written += rollup_grouped(
        "success_rate", apps, decided, dims, window,
        extra=f"ap.{a.status} <> {lit(Status.DENIED.value)} ok", **ratio,
    )  # fmt: skip
    written += rollup_sampled(
        "median_days_to_issue", apps, f"ap.{a.issued_at}", submitted, dims, window
    )
    written += rollup_sampled("median_days_to_decision", apps, decided, submitted, dims, window)
    written += rollup_grouped(
        "decided_within_sla", apps, decided, dims, window,
        extra=f"{local_day(decided)} <= ap.{a.due_at} ok", **ratio,
    )  # fmt: skip
    written += rollup_grouped(
        "submitted_online", apps, submitted, dims, window, extra=f"ap.{a.online} ok", **ratio
    )
    written += rollup_grouped(
        "renewals_on_time",
        f"{a.table} ap JOIN {p.table} pt ON pt.{p.id} = ap.{a.permit_type} "
        f"JOIN {a.table} old ON old.{a.id} = ap.{a.renews}",
        f"ap.{a.issued_at}", {"permit_type": f"pt.{p.code}"}, window,
        extra=f"{local_day('ap.' + a.issued_at)} <= old.{a.expires_at} ok", **ratio,
    )  # fmt: skip
    written += rollup_grouped(
        "fee_revenue",
        f"{pay.table} pm JOIN {a.table} ap ON ap.{a.id} = pm.{pay.application} "
        f"JOIN {p.table} pt ON pt.{p.id} = ap.{a.permit_type}",
        f"pm.{pay.created_at}", {"permit_type": f"pt.{p.code}"}, window,
        where=f"pm.{pay.method} <> {lit(PaymentMethod.WAIVER.value)}",
        extra=f"pm.{pay.amount} amount", numerator="sum(amount)", denominator="count(*)",
    )  # fmt: skip
    not_received = lit(PaymentMethod.WAIVER.value) + ", " + lit(PaymentMethod.REFUND.value)
    written += rollup_grouped(
        "fees_paid_online",
        f"{pay.table} pm JOIN {a.table} ap ON ap.{a.id} = pm.{pay.application} "
        f"JOIN {p.table} pt ON pt.{p.id} = ap.{a.permit_type}",
        f"pm.{pay.created_at}", {"permit_type": f"pt.{p.code}"}, window,
        where=f"pm.{pay.method} NOT IN ({not_received})",
        extra=f"pm.{pay.method} = {lit(PaymentMethod.ONLINE.value)} ok", **ratio,
    )  # fmt: skip
    return written


def rollup_alerts(window: tuple[date, date]) -> int:
    """The alert metrics: subscribers and households reached at the end of each day (a running
    count of confirmations), and what the providers accepted and how fast."""
    from alerts.models import Alert, Delivery, Notification, Subscription
    from kpis.models import PerformanceSettings

    s, dl, nt, al = T(Subscription), T(Delivery), T(Notification), T(Alert)
    first, last = lit(window[0]), lit(window[1])
    households = PerformanceSettings.current().households or 0
    confirmed = local_day(f"{s.confirmed_at}")
    running = f"""WITH daily AS (
            SELECT greatest({confirmed}, {first}::date) AS day,
                   count(*) FILTER (WHERE {s.by_email} OR {s.by_sms}) total,
                   count(*) FILTER (WHERE {s.by_email}) email, count(*) FILTER (WHERE {s.by_sms}) sms
            FROM {s.table} WHERE {s.confirmed_at} IS NOT NULL AND {confirmed} <= {last}::date
            GROUP BY 1
        ), grid AS (
            SELECT g::date AS day, coalesce(total, 0) total, coalesce(email, 0) email, coalesce(sms, 0) sms
            FROM generate_series({first}::date, {last}::date, interval '1 day') g
            LEFT JOIN daily ON daily.day = g::date
        ), counts AS (
            SELECT day, sum(total) OVER w total, sum(email) OVER w email, sum(sms) OVER w sms
            FROM grid WINDOW w AS (ORDER BY day)
        )"""
    written = rollup_insert(
        "alert_subscribers",
        f"""{running}
            SELECT day, '', '', total::float8, 0::float8, '[]'::jsonb FROM counts
            UNION ALL SELECT day, 'channel', 'email', email, 0, '[]'::jsonb FROM counts
            UNION ALL SELECT day, 'channel', 'sms', sms, 0, '[]'::jsonb FROM counts""",
    )
    written += rollup_insert(
        "households_reached",
        f"{running} SELECT day, '', '', total::float8, {float(households)}::float8, '[]'::jsonb FROM counts",
    )
    sent_day, failed_day = local_day(f"{dl.sent_at}"), local_day(f"{dl.updated_at}")
    written += rollup_insert(
        "delivery_success",
        f"""SELECT d, CASE WHEN GROUPING(channel) = 0 THEN 'channel' ELSE '' END,
                   CASE WHEN GROUPING(channel) = 0 THEN coalesce(nullif(channel, ''), '—') ELSE '' END,
                   sum(sent)::float8, (sum(sent) + sum(failed))::float8, '[]'::jsonb
            FROM (
                SELECT {sent_day} d, {dl.channel} channel, 1 sent, 0 failed FROM {dl.table}
                WHERE {dl.status} = 'sent' AND {dl.channel} <> 'portal'
                  AND {sent_day} BETWEEN {first} AND {last}
                UNION ALL
                SELECT {failed_day}, {dl.channel}, 0, 1 FROM {dl.table}
                WHERE {dl.status} = 'failed' AND {dl.channel} <> 'portal'
                  AND {failed_day} BETWEEN {first} AND {last}
            ) x GROUP BY GROUPING SETS ((d), (d, channel))""",
    )
    written += rollup_sampled(
        "minutes_to_deliver",
        f"{dl.table} dv JOIN {nt.table} nt ON nt.{nt.id} = dv.{dl.notification} "
        f"JOIN {al.table} al ON al.{al.id} = nt.{nt.alert}",
        f"dv.{dl.sent_at}", f"al.{al.published_at}", {"channel": f"dv.{dl.channel}"}, window,
        where=f"dv.{dl.status} = 'sent' AND dv.{dl.channel} <> 'portal'", divisor=60,
    )  # fmt: skip
    # Alert reach: of the emails and texts of the alerts published that day (unsubscribed ones
    # aside), those sent within 5 minutes of publishing.
    written += rollup_grouped(
        "alert_reach",
        f"{dl.table} dv JOIN {nt.table} nt ON nt.{nt.id} = dv.{dl.notification} "
        f"JOIN {al.table} al ON al.{al.id} = nt.{nt.alert}",
        f"al.{al.published_at}", {"channel": f"dv.{dl.channel}"}, window,
        where=f"dv.{dl.status} <> 'skipped' AND dv.{dl.channel} <> 'portal'",
        extra=f"(dv.{dl.status} = 'sent' AND dv.{dl.sent_at} <= al.{al.published_at} "
        "+ interval '5 minutes') ok",
        numerator="count(*) FILTER (WHERE ok)", denominator="count(*)",
    )  # fmt: skip
    return written


def build_rollups(plan: Plan, refs: Refs) -> int:
    """kpis.DailyRollup for today and the 730 days before, recomputed over everything (demo and
    generated rows), every metric of kpis.metrics in exactly the shape `rollup_days` writes.
    The city's household count grows with the dataset (restored on purge), so the share of
    households reached stays a share."""
    from kpis.metrics import METRICS
    from kpis.models import DailyRollup, PerformanceSettings

    defined = {metric.key for metric in METRICS}
    if defined != ROLLUP_METRICS:
        # A metric added to (or dropped from) kpis.metrics needs its SQL here too.
        raise RuntimeError(
            f"kpis.metrics and the bench roll-ups differ: {defined ^ ROLLUP_METRICS}"
        )
    settings_row = PerformanceSettings.current()
    needed = round(plan.residents * 2.5)
    if settings_row.households < needed:
        record_range("households", settings_row.households, needed, 0, refs)
        ps = T(PerformanceSettings)
        run(f"UPDATE {ps.table} SET {ps.households} = {needed} WHERE {ps.id} = {settings_row.pk}")
    window = (refs.today - timedelta(days=KPI_DAYS), refs.today)
    k = T(DailyRollup)
    run(f"DELETE FROM {k.table} WHERE {k.day} BETWEEN {lit(window[0])} AND {lit(window[1])}")
    written = rollup_requests(window) + rollup_cases_and_permits(window) + rollup_alerts(window)
    keys = {
        key
        for (key,) in rows(
            f"SELECT DISTINCT {k.metric} FROM {k.table} WHERE {k.day} >= {lit(window[0])}"
        )
    }
    unknown = keys - {metric.key for metric in METRICS}
    if unknown:
        raise RuntimeError(f"roll-ups for metrics kpis.metrics does not define: {unknown}")
    record_range(k.table, 0, 0, written, refs)
    return written
