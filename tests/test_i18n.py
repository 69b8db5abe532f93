"""The Spanish catalog is complete: every string the code marks has a Spanish translation.

Extraction runs on a scratch copy of the catalog (the tree is reached through symlinks), so a
newly marked string that nobody translated fails here rather than reaching a resident in English.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["cityhall", "portal", "permits", "code_enforcement", "alerts", "kpis", "templates"]


@pytest.fixture(scope="module")
def extracted_catalog(tmp_path_factory) -> Path:
    scratch = tmp_path_factory.mktemp("i18n")
    for name in SOURCES:
        (scratch / name).symlink_to(ROOT / name)
    (scratch / "locale" / "es" / "LC_MESSAGES").mkdir(parents=True)
    po = scratch / "locale" / "es" / "LC_MESSAGES" / "django.po"
    po.write_bytes((ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po").read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "makemessages",
            "-l",
            "es",
            "--symlinks",
            "--no-obsolete",
            "--ignore=*/tests/*",
            "--ignore=*/migrations/*",
        ],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return po


def _untranslated(po: Path, flag: str) -> list[str]:
    result = subprocess.run(
        ["msgattrib", flag, "--no-obsolete", str(po)], capture_output=True, text=True, check=True
    )
    ids = re.findall(r'^msgid "(.*)"$', result.stdout, re.MULTILINE)
    return [msgid for msgid in ids if msgid]


def test_every_marked_string_has_spanish(extracted_catalog):
    missing = _untranslated(extracted_catalog, "--untranslated")
    assert not missing, f"{len(missing)} strings have no Spanish translation: {missing[:20]}"


def test_no_fuzzy_translations(extracted_catalog):
    fuzzy = _untranslated(extracted_catalog, "--only-fuzzy")
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy[:20]}"


def test_catalog_compiles(tmp_path):
    result = subprocess.run(
        [
            "msgfmt",
            "--check",
            "-o",
            str(tmp_path / "django.mo"),
            str(ROOT / "locale/es/LC_MESSAGES/django.po"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
