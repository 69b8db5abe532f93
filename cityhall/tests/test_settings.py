"""Configuration: a malformed environment stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cityhall.settings import env

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "q7Zt-4vLm_Rx9pW2eKc8sYh1NbD0fGjU3aTiO6wPzXrV5nMlQyEdHgSkBoAuCjF",
    "SMTP_URL": "smtp://mailer:secret@smtp.example.org:587",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "ALLOWED_HOSTS": "cityhall.riverbend.example",
    "SITE_URL": "https://cityhall.riverbend.example",
}


def run_django(code: str, **env_overrides) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env_overrides}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (env.env_bool, "maybe", "must be true or false"),
        (env.env_int, "ten", "must be a whole number"),
    ],
)
def test_readers_name_the_variable(monkeypatch, reader, value, message):
    monkeypatch.setenv("CITYHALL_PROBE", value)
    with pytest.raises(
        ImproperlyConfigured, match=rf"CITYHALL_PROBE {message}|CITYHALL_PROBE.*{message}"
    ):
        reader("CITYHALL_PROBE", None)


def test_url_reader_checks_scheme(monkeypatch):
    monkeypatch.setenv("CITYHALL_PROBE", "mysql://db/x")
    with pytest.raises(
        ImproperlyConfigured, match="CITYHALL_PROBE must be a URL starting with postgres://"
    ):
        env.env_url("CITYHALL_PROBE", schemes=("postgres",))


def test_required_variable_missing(monkeypatch):
    monkeypatch.delenv("CITYHALL_PROBE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="CITYHALL_PROBE is required"):
        env.env_str("CITYHALL_PROBE")


def test_readers_accept_good_values(monkeypatch):
    monkeypatch.setenv("CITYHALL_PROBE", "On")
    assert env.env_bool("CITYHALL_PROBE", False) is True
    monkeypatch.setenv("CITYHALL_PROBE", "a, b ,,c")
    assert env.env_list("CITYHALL_PROBE", []) == ["a", "b", "c"]
    monkeypatch.setenv("CITYHALL_PROBE", " 42 ")
    assert env.env_int("CITYHALL_PROBE", 0, minimum=1) == 42


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_CONN_MAX_AGE", "sixty"),
        ("SIGNUP_OPEN", "perhaps"),
        ("REDIS_URL", "localhost:6379"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_startup_stops_naming_the_malformed_variable(name, value):
    result = run_django("", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_has_no_default_secret():
    environment = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_django("", DJANGO_SETTINGS_MODULE="cityhall.settings.production", **environment)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_passes_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "cityhall.settings.production",
            **PRODUCTION_ENV,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_content_security_policy_uses_nonces(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
