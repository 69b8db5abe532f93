"""The retention schedule a new city starts with (migration 0002 writes it; the README's
"Records retention" table says the same). Each: record type, status, kind, period, unit,
action, reason."""

DEFAULT_RULES = [
    (
        "permits.application",
        "draft",
        "",
        1,
        "years",
        "delete",
        "A draft never sent to the city is not a city record; its owner has had a year to send it.",
    ),
    (
        "permits.application",
        "refused",
        "",
        2,
        "years",
        "anonymise",
        "Gov. Code §34090 lets a city dispose of most records after two years. The counts "
        "stay for the statistics; the applicant's name, phone and answers go.",
    ),
    (
        "permits.application",
        "ended",
        "",
        0,
        "years",
        "keep",
        "Permits are kept for the life of the building they allowed (Health & Safety Code "
        "§19850). To shorten it for a licence type, add a rule for this status and that type.",
    ),
    (
        "permits.document",
        "",
        "",
        0,
        "years",
        "keep",
        "Plans and permit documents are kept for the life of the building (Health & Safety "
        "Code §19850). Add a rule per permit or licence type to shorten it.",
    ),
    (
        "code_enforcement.servicerequest",
        "",
        "",
        2,
        "years",
        "anonymise",
        "Gov. Code §34090 (two years). The report stays for the statistics and the history "
        "of the place; who reported it and how to reach them go.",
    ),
    (
        "code_enforcement.requestphoto",
        "",
        "",
        2,
        "years",
        "delete",
        "Photos can show people and homes; the report's text keeps the record (Gov. Code "
        "§34090, two years).",
    ),
    (
        "code_enforcement.codecase",
        "",
        "",
        5,
        "years",
        "anonymise",
        "A case can lead to a lien or to court: kept whole for five years after it closes, "
        "then without the owner's contact details.",
    ),
    (
        "alerts.subscription",
        "unconfirmed",
        "",
        30,
        "days",
        "delete",
        "Never confirmed, so the city may not write to that address; a month leaves time to "
        "confirm.",
    ),
    (
        "alerts.subscription",
        "cancelled",
        "",
        4,
        "years",
        "delete",
        "Proof the person opted out, for the four years a claim about unwanted texts can be "
        "brought (47 U.S.C. §227; 28 U.S.C. §1658).",
    ),
    (
        "alerts.notification",
        "",
        "",
        2,
        "years",
        "delete",
        "Gov. Code §34090 (two years); residents can download their messages before then.",
    ),
    (
        "alerts.delivery",
        "",
        "",
        90,
        "days",
        "anonymise",
        "The address a message went to is needed for a while to look into a bounce or a "
        "complaint; the counts stay for the delivery statistics.",
    ),
    (
        "cityhall.history",
        "",
        "",
        2,
        "years",
        "anonymise",
        "The audit trail of who changed what stays; the copies of personal data in it go "
        "after two years (Gov. Code §34090).",
    ),
    (
        "cityhall.session",
        "",
        "",
        0,
        "days",
        "delete",
        "An expired sign-in session is of no use and says who was signed in.",
    ),
    (
        "cityhall.staffaccess",
        "",
        "",
        3,
        "years",
        "delete",
        "Staff access to personal data is kept for three years, the audit cycle, then deleted.",
    ),
]


def create_default_rules(model, history=None) -> int:
    """Write the default schedule into an empty table (`model` is RetentionRule, or the
    migration's historical model; `history` its history model, which gets each rule's
    "created" row so later changes show what they changed). A schedule the city has started
    is never touched."""
    from django.utils import timezone

    if model.objects.exists():
        return 0
    rules = model.objects.bulk_create(
        model(
            record_type=record_type,
            status=status,
            kind=kind,
            period=period,
            unit=unit,
            action=action,
            reason=reason,
        )
        for record_type, status, kind, period, unit, action, reason in DEFAULT_RULES
    )
    if history is not None:
        now = timezone.now()
        history.objects.bulk_create(
            history(
                id=rule.pk,
                record_type=rule.record_type,
                status=rule.status,
                kind=rule.kind,
                period=rule.period,
                unit=rule.unit,
                action=rule.action,
                reason=rule.reason,
                updated_at=now,
                history_date=now,
                history_type="+",
                history_change_reason="The default schedule",
            )
            for rule in rules
        )
    return len(rules)
