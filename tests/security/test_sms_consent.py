"""SMS consent: a number typed into a profile receives nothing but the code until its owner
types that code back (double opt-in), so nobody can sign someone else up for texts."""

from __future__ import annotations

import pytest

from alerts.constants import Channel
from alerts.models import Delivery, Notification
from alerts.services import notify
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


def _profile(client, **changes):
    data = {
        "first_name": "Alice",
        "last_name": "Reyes",
        "phone": "",
        "home_address": "",
        "neighborhood": "",
        "preferred_language": "en",
        "notify_by_email": "on",
        "notify_by_sms": "on",
    }
    data.update(changes)
    return client.post("/me/profile/", data)


def test_a_typed_number_gets_only_a_code_until_it_is_confirmed(alice):
    client = signed_in_client(alice)
    response = _profile(client, phone="(415) 555-2671")
    assert response.status_code == 302 and response["Location"] == "/me/phone/"
    alice.refresh_from_db()
    assert alice.phone == "+14155552671" and alice.phone_confirmed_at is None
    code_text = Notification.objects.get(template="phone_code")
    assert alice.phone_code in code_text.sms_text
    assert "to confirm this phone number on your City Hall profile" in code_text.sms_text

    notify(user=alice, template="staff_notice", context={"subject": "Hi", "body": "Hi"})
    assert (
        not Delivery.objects.filter(channel=Channel.SMS, address=alice.phone)
        .exclude(notification=code_text)
        .exists()
    )

    page = client.post(
        "/me/phone/", {"code": "000000" if alice.phone_code != "000000" else "111111"}
    )
    assert "That code is not right" in page.content.decode()
    client.post("/me/phone/", {"code": alice.phone_code})
    alice.refresh_from_db()
    assert alice.phone_confirmed_at is not None
    notify(user=alice, template="staff_notice", context={"subject": "Hi", "body": "Hi"})
    assert Delivery.objects.filter(channel=Channel.SMS, address=alice.phone).count() == 2


def test_five_wrong_codes_need_a_new_one(alice):
    client = signed_in_client(alice)
    _profile(client, phone="(415) 555-2671")
    alice.refresh_from_db()
    right = alice.phone_code
    wrong = "000000" if right != "000000" else "111111"
    for _n in range(5):
        client.post("/me/phone/", {"code": wrong})
    client.post("/me/phone/", {"code": right})
    alice.refresh_from_db()
    assert alice.phone_confirmed_at is None
    client.post("/me/phone/", {"resend": "1"})
    alice.refresh_from_db()
    client.post("/me/phone/", {"code": alice.phone_code})
    alice.refresh_from_db()
    assert alice.phone_confirmed_at is not None


def test_a_number_typed_to_follow_a_report_gets_only_a_code_until_confirmed(client):
    from alerts.models import Delivery as D
    from cityhall.roles import Role
    from code_enforcement import services
    from code_enforcement.models import Follower
    from code_enforcement.tests.factories import ensure_city, make_request, staff

    ensure_city()
    original = make_request()
    session = client.session
    session["report"] = {
        "token": "f" * 32,
        "category": original.category_id,
        "latitude": original.latitude,
        "longitude": original.longitude,
        "description": "Same hole",
        "contact": {"name": "", "email": "", "phone": "+14155552671"},
    }
    session.save()
    response = client.post("/report/review/", {"follow": original.public_id})
    assert response["Location"] == f"/requests/{original.public_id}/follow/"
    follower = Follower.objects.get(request=original)
    assert follower.phone_confirmed_at is None and follower.phone_code

    inspector = staff(Role.CODE_INSPECTOR)
    services.request_acknowledge(request=original, actor=inspector)
    texts = D.objects.filter(channel=Channel.SMS, address="+14155552671")
    assert texts.count() == 1  # the code, nothing else

    page = client.get(f"/requests/{original.public_id}/follow/").content.decode()
    assert "We texted a code to (415) 555-2671" in page
    client.post(f"/requests/{original.public_id}/follow/", {"code": follower.phone_code})
    follower.refresh_from_db()
    assert follower.phone_confirmed_at is not None
    services.request_start(request=original, actor=inspector)
    services.request_close(request=original, actor=inspector, resolution="resolved")
    assert texts.count() == 2
