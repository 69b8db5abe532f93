"""Every metric of the registry, computed straight from the raw tables, against numbers worked
out by hand from the fixed world in world.py (the period is June 2026)."""

from __future__ import annotations

from datetime import date

import pytest

from code_enforcement.constants import CaseStatus
from code_enforcement.models import CodeCase, ServiceRequest, Violation, ViolationType
from code_enforcement.tests.factories import make_category, make_violation_type
from kpis.metrics import METRICS, REGISTRY, Row, combine, compute_direct
from kpis.models import PerformanceSettings

from .world import END, START, at, make_neighborhood

pytestmark = pytest.mark.django_db


def approx(value):
    return None if value is None else pytest.approx(value, abs=1e-6)


# The whole city, June 2026.
CITY = {
    # Created in June: C1 C2 C3 C4 C6 C7 C9 C10 O1 O2 O5 O7 O10 = 13
    # (C5 5/20, C8 5/25, O3 5/15, O4 1/15, O6 4/1, O8 3/31, O9 4/1 are older).
    "requests_received": 13,
    # Closed (status closed, closed_at in June): C1..C10 = 10 (O5 closes 7/2, O6 closed 5/10).
    "requests_closed": 10,
    # Closed on or before resolve_due: C1 6/5<=6/10, C3, C5 6/9<=6/9, C6, C8, C9, C10 = 7;
    # late: C2 6/13>6/10, C4 6/30>6/25, C7 6/15>6/12 -> 7/10 = 70 %.
    "closed_within_sla": 70.0,
    # Days to close: C1 3, C2 10, C3 1, C4 20, C5 20, C6 2, C7 7, C8 22, C9 5, C10 11
    # sorted [1, 2, 3, 5, 7, 10, 11, 20, 20, 22] -> median (7 + 10) / 2 = 8.5
    "median_days_to_close": 8.5,
    # Nearest rank: ceil(0.9 * 10) = 9th smallest = 20 (not the maximum, 22; not 20.2).
    "p90_days_to_close": 20.0,
    # Acknowledged in June: C1 1, C2 2, C3 1, C4 4, C6 0, C7 3, C9 1, C10 1, O1 2, O5 1
    # (C5, C8, O4, O6 were acknowledged before June) -> 16 / 10 = 1.6 days.
    "avg_days_to_acknowledge": 1.6,
    # Open at the end of 6/30: O1 O2 O3 O4 O5 (closes 7/2) O7 O8 O9 O10 = 9
    # (C4 closed on 6/30 itself is not open).
    "open_backlog": 9,
    # Of the 10 closed, C2 and C7 were reopened once -> 2/10 = 20 %.
    "reopen_rate": 20.0,
    # Cases closed in June with at least one violation: K1 (2 violations, no fine),
    # K2 (fine $250), K3 (no fine); K4 (closed 6/20, no violation) is left out
    # -> 2/3 = 66.67 %. A case counts once however many violations it has.
    "voluntary_compliance": 200 / 3,
    # Violations corrected in June, days from the case opening: V1 K1 6/1->6/11 = 10,
    # V2 K1 6/1->6/15 = 14, V3 K2 6/2->6/24 = 22, V4 K3 5/20->6/3 = 14, V7 K7 6/12->6/25 = 13
    # sorted [10, 13, 14, 14, 22] -> 14.
    "median_days_to_compliance": 14.0,
    # Opened in June as repeat violations: K6 6/10, K7 6/12, K9 6/15 = 3 (K8 opened 5/28).
    "repeat_violations": 3,
    # Submitted in June: A1 A2 A3 A6 A7 A8 = 6.
    "applications_received": 6,
    # Decided in June: A1 issued, A2 denied, A3 approved, A4 issued, A7 denied, A8 denied
    # -> (A1 + A3 + A4) / 6 = 50 %.
    "success_rate": 50.0,
    # Issued in June, days from submission: A1 11, A4 15, A5 29, RN1 16, RN2 18, RN3 20
    # sorted [11, 15, 16, 18, 20, 29] -> (16 + 18) / 2 = 17.
    "median_days_to_issue": 17.0,
    # Decided in June by due_at: A1 6/10<=6/15, A3 6/17<=6/17, A4 6/1<=6/3, A7 6/29<=7/9 on time;
    # A2 6/16>6/12 and A8 6/26>6/22 late -> 4/6 = 66.67 %.
    "decided_within_sla": 400 / 6,
    # Submitted in June: online A1 A3 A6 A8, on paper A2 A7 -> 4/6 = 66.67 %.
    "submitted_online": 400 / 6,
    # Renewals issued in June: RN1 6/10 <= P1 expiry 6/20, RN3 6/15 <= 6/15 on time;
    # RN2 6/9 > P2 expiry 6/5 late -> 2/3 = 66.67 %.
    "renewals_on_time": 200 / 3,
    # Paid in June: A1 150.00 + A4 75.50 + RN1 60.25 + RN2 100.00 = 385.75
    # (A5's $200 waiver excluded, A8's $40 paid 5/31).
    "fee_revenue": 385.75,
    # Received in June (A5's waiver aside): A1 card, A4 cash, RN1 check, RN2 online -> 1/4.
    "fees_paid_online": 25.0,
    # Confirmed by 6/30 with a channel: S1, S2, S3, S7 = 4 (S4 confirms 7/5, S5 never,
    # S6 unsubscribed from both).
    "alert_subscribers": 4,
    # 4 subscribers / 200 households = 2 %.
    "households_reached": 2.0,
    # Emails and texts finished in June: sent D1 D2 D5 D7 D9 = 5, failed D3 D6 = 2
    # (D4 is the portal, D8 pending, D10 sent in July, D11 skipped) -> 5/7 = 71.43 %.
    "delivery_success": 500 / 7,
    # Minutes from publishing to sent, alerts only, no portal: D1 2, D2 5, D5 10, D7 3
    # sorted [2, 3, 5, 10] -> (3 + 5) / 2 = 4.
    "minutes_to_deliver": 4.0,
    # Decided in June, days from submission: A1 9, A2 14, A3 14, A4 12, A7 4, A8 18
    # sorted [4, 9, 12, 14, 14, 18] -> (12 + 14) / 2 = 13.
    "median_days_to_decision": 13.0,
    # Acknowledged in June, hours from the report: C1 24, C2 48, C3 24, C4 96, C6 0, C7 72,
    # C9 24, C10 24, O1 48, O5 24 -> the 5th and 6th of 10 are both 24.
    "first_response_hours": 24.0,
    # Emails and texts of the alerts published in June (no portal, no unsubscribed D11):
    # D1 D2 D3 D5 D6 D7 D8 D10 = 8; within 5 minutes: D1 (2), D2 (5, on the minute), D7 (3)
    # -> 3/8 = 37.5 %. D5 took 10 minutes, D10 two days; D3 and D6 failed, D8 never went.
    "alert_reach": 37.5,
}

BREAKDOWNS = {
    # Received: pothole C1 C2 C6 C9 O1 O5 O7 = 7; graffiti C3 C4 C7 C10 O2 O10 = 6.
    ("requests_received", "category"): {"pothole": 7, "graffiti": 6},
    # Received by source: phone C2 C9, open311 C4, web the other 10.
    ("requests_received", "channel"): {"web": 10, "phone": 2, "open311": 1},
    # Received: north C1 C2 C7 O1 O2 O5 = 6; south C3 C4 C6 C9 C10 O7 O10 = 7.
    ("requests_received", "neighborhood"): {"north": 6, "south": 7},
    ("requests_received", "department"): {"Public Works": 7, "Parks": 6},
    # Closed: pothole C1 C2 C5 C6 C8 C9 = 6; graffiti C3 C4 C7 C10 = 4.
    ("requests_closed", "category"): {"pothole": 6, "graffiti": 4},
    # Closed: north C1 C2 C7 C8 = 4; south C3 C4 C5 C6 C9 C10 = 6.
    ("requests_closed", "neighborhood"): {"north": 4, "south": 6},
    # Pothole: all but C2 on time -> 5/6; graffiti: C3 and C10 of 4 -> 2/4.
    ("closed_within_sla", "category"): {"pothole": 500 / 6, "graffiti": 50.0},
    # Pothole [2, 3, 5, 10, 20, 22] -> (5 + 10) / 2 = 7.5; graffiti [1, 7, 11, 20] -> 9.
    ("median_days_to_close", "category"): {"pothole": 7.5, "graffiti": 9.0},
    # Pothole ceil(5.4) = 6th of 6 = 22; graffiti ceil(3.6) = 4th of 4 = 20.
    ("p90_days_to_close", "category"): {"pothole": 22.0, "graffiti": 20.0},
    # Pothole C1 1 + C2 2 + C6 0 + C9 1 + O1 2 + O5 1 = 7 / 6; graffiti C3 1 + C4 4 + C7 3
    # + C10 1 = 9 / 4.
    ("avg_days_to_acknowledge", "category"): {"pothole": 7 / 6, "graffiti": 2.25},
    # Ages on 6/30: O2 2, O7 7, O10 0 | O1 8, O5 29 | O3 46, O9 90 | O4 166, O8 91.
    ("open_backlog", "aging"): {"0-7": 3, "8-30": 2, "31-90": 2, "90+": 2},
    # Pothole: C2 of 6; graffiti: C7 of 4.
    ("reopen_rate", "category"): {"pothole": 100 / 6, "graffiti": 25.0},
    # North: K1 without a fine -> 1/1; south: K3 without, K2 with -> 1/2.
    ("voluntary_compliance", "neighborhood"): {"north": 100.0, "south": 50.0},
    # North [10, 13, 14] -> 13; south [14, 22] -> 18.
    ("median_days_to_compliance", "neighborhood"): {"north": 13.0, "south": 18.0},
    # South K6 K9; north K7.
    ("repeat_violations", "neighborhood"): {"north": 1, "south": 2},
    # BLD A1 A2 A6 A8 = 4; FEN A3 A7 = 2.
    ("applications_received", "permit_type"): {"BLD": 4, "FEN": 2},
    # North A1 A2 A6 A7 = 4; south A3 A8 = 2.
    ("applications_received", "neighborhood"): {"north": 4, "south": 2},
    # BLD: A1 of A1 A2 A8 -> 1/3; FEN: A3 A4 of A3 A4 A7 -> 2/3.
    ("success_rate", "permit_type"): {"BLD": 100 / 3, "FEN": 200 / 3},
    # BLD A1 11, A5 29, RN2 18 -> 18; FEN A4 15, RN1 16, RN3 20 -> 16.
    ("median_days_to_issue", "permit_type"): {"BLD": 18.0, "FEN": 16.0},
    # BLD: A1 of A1 A2 A8 -> 1/3; FEN: A3 A4 A7 all on time -> 3/3.
    ("decided_within_sla", "permit_type"): {"BLD": 100 / 3, "FEN": 100.0},
    # BLD: A1 A6 A8 online of 4 -> 75 %; FEN: A3 of A3 A7 -> 50 %.
    ("submitted_online", "permit_type"): {"BLD": 75.0, "FEN": 50.0},
    # FEN: RN1 RN3 on time -> 100 %; BLD: RN2 late -> 0 % (a real zero, not "no data").
    ("renewals_on_time", "permit_type"): {"BLD": 0.0, "FEN": 100.0},
    # BLD: A1 150 + RN2 100 = 250 (A5 waived); FEN: A4 75.50 + RN1 60.25 = 135.75.
    ("fee_revenue", "permit_type"): {"BLD": 250.0, "FEN": 135.75},
    # BLD: A1 card, RN2 online -> 50 %; FEN: A4 cash, RN1 check -> 0 %.
    ("fees_paid_online", "permit_type"): {"BLD": 50.0, "FEN": 0.0},
    # Email S1 S3 S7 = 3; text S2 S3 = 2.
    ("alert_subscribers", "channel"): {"email": 3, "sms": 2},
    # Email: D1 D5 D9 sent, D3 failed -> 3/4; text: D2 D7 sent, D6 failed -> 2/3.
    ("delivery_success", "channel"): {"email": 75.0, "sms": 200 / 3},
    # Email D1 2, D5 10 -> 6; text D2 5, D7 3 -> 4.
    ("minutes_to_deliver", "channel"): {"email": 6.0, "sms": 4.0},
    # BLD A1 9, A2 14, A8 18 -> 14; FEN A3 14, A4 12, A7 4 -> 12.
    ("median_days_to_decision", "permit_type"): {"BLD": 14.0, "FEN": 12.0},
    # Pothole [0, 24, 24, 24, 48, 48] -> 24; graffiti [24, 24, 72, 96] -> 48.
    ("first_response_hours", "category"): {"pothole": 24.0, "graffiti": 48.0},
    # Email D1 of D1 D3 D5 D8 D10 -> 20 %; text D2 D7 of D2 D6 D7 -> 66.67 %.
    ("alert_reach", "channel"): {"email": 20.0, "sms": 200 / 3},
}


def test_every_metric_has_a_hand_computed_value():
    assert set(CITY) == set(REGISTRY)
    # ...and every metric that has dimensions is checked by at least one of them.
    assert {key for key, _dimension in BREAKDOWNS} == {
        key for key, metric in REGISTRY.items() if metric.dimensions
    }
    for key, dimension in BREAKDOWNS:
        assert dimension in REGISTRY[key].dimensions


@pytest.mark.parametrize("key", list(CITY))
def test_city_value(world, key):
    assert compute_direct(REGISTRY[key], START, END) == {"": approx(CITY[key])}


@pytest.mark.parametrize(("key", "dimension"), list(BREAKDOWNS))
def test_breakdown(world, key, dimension):
    expected = {value: approx(number) for value, number in BREAKDOWNS[(key, dimension)].items()}
    assert compute_direct(REGISTRY[key], START, END, dimension=dimension) == expected


def test_breakdowns_add_up_for_counts(world):
    """Counts by any dimension add up to the city's count."""
    for metric in METRICS:
        if metric.kind != "count":
            continue
        city = compute_direct(metric, START, END)[""]
        for dimension in metric.dimensions:
            parts = compute_direct(metric, START, END, dimension=dimension)
            assert sum(parts.values()) == city, (metric.key, dimension)


FEBRUARY = (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    "key",
    [
        "median_days_to_issue",  # nothing issued in February
        "delivery_success",  # no deliveries in February
        "minutes_to_deliver",
        "requests_received",  # a count with nothing counted is no data, not 0
        "fee_revenue",
        "closed_within_sla",
        "avg_days_to_acknowledge",
    ],
)
def test_no_data_is_none_never_zero(world, key):
    values = compute_direct(REGISTRY[key], *FEBRUARY)
    assert values.get("") is None
    assert 0 not in values.values()


def test_households_reached_without_households_is_no_data(world):
    settings_row = PerformanceSettings.current()
    settings_row.households = 0
    settings_row.save()
    assert compute_direct(REGISTRY["households_reached"], START, END).get("") is None


def test_snapshots_are_taken_at_the_end_of_the_period(world):
    # On 6/12: S1 (email, 5/1) and S2 (text, 6/10) -> 2 subscribers, 1 by email, 1 by text.
    mid = date(2026, 6, 12)
    assert compute_direct(REGISTRY["alert_subscribers"], START, mid) == {"": 2}
    assert compute_direct(REGISTRY["alert_subscribers"], START, mid, dimension="channel") == {
        "email": 1,
        "sms": 1,
    }
    # Open at the end of 6/12: C2 (closes 6/13), C4, C7, C8, C9 (created 6/12), O3, O4, O5,
    # O8, O9 = 10; C1 C3 C5 C6 C10 are closed by then, O1 O2 O7 O10 not yet created.
    assert compute_direct(REGISTRY["open_backlog"], START, mid) == {"": 10}


def test_nearest_rank_p90_and_median():
    metric = REGISTRY["p90_days_to_close"]
    rows = [Row(date(2026, 6, 1), "", "", 0, 0, [float(n) for n in range(1, 21)])]
    # ceil(0.9 * 20) = 18th smallest of 1..20 = 18.
    assert combine(metric, rows) == 18.0
    # One sample: ceil(0.9) = 1st = itself.
    assert combine(metric, [Row(date(2026, 6, 1), "", "", 0, 0, [4.0])]) == 4.0
    assert combine(REGISTRY["median_days_to_close"], rows) == 10.5
    assert combine(metric, []) is None


# --- Focused cases ---------------------------------------------------------------------------------


def _case(number, *, closed, fine=None, violations=1):
    case = CodeCase.objects.create(
        number=number,
        address=f"{number} Oak Street",
        neighborhood=make_neighborhood("north"),
        opened_at=at((6, 1)),
        closed_at=at(closed),
        status=CaseStatus.CLOSED,
        fine_amount=fine,
    )
    violation_type = ViolationType.objects.first() or make_violation_type()
    for _ in range(violations):
        Violation.objects.create(
            case=case,
            violation_type=violation_type,
            description="Weeds",
            comply_by=date(2026, 7, 1),
            corrected_at=at((6, 5)),
        )
    return case


def test_voluntary_compliance_counts_a_case_once_whatever_its_violations():
    # X1: 3 violations, corrected without a fine; X2: 1 violation, fined -> 1/2 = 50 %.
    _case("X1", closed=(6, 10), violations=3)
    _case("X2", closed=(6, 11), fine=100)
    assert compute_direct(REGISTRY["voluntary_compliance"], START, END) == {"": 50.0}


def test_voluntary_compliance_leaves_out_cases_without_violations_closed_the_same_day():
    # X1: 1 violation, fined; X2: no violation found, closed the same day -> 0/1 = 0 %.
    _case("X1", closed=(6, 10), fine=100)
    _case("X2", closed=(6, 10), violations=0)
    assert compute_direct(REGISTRY["voluntary_compliance"], START, END) == {"": 0.0}


def test_days_are_the_citys_local_dates():
    """23:30 on 6/30 in the city is already 7/1 in UTC; it still counts in June."""
    category = make_category("pothole")
    for moment in [at((5, 31), 23, 30), at((6, 1), 0, 30), at((6, 30), 23, 30), at((7, 1), 0, 30)]:
        ServiceRequest.objects.create(category=category, description="Edge", created_at=moment)
    metric = REGISTRY["requests_received"]
    assert compute_direct(metric, START, END) == {"": 2}
    assert compute_direct(metric, date(2026, 7, 1), date(2026, 7, 1)) == {"": 1}
    assert compute_direct(metric, date(2026, 5, 31), date(2026, 5, 31)) == {"": 1}
