"""Settings are one table, read from the environment, and all documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from inquiry_docs import config

pytestmark = pytest.mark.stack_free("settings read from a mapping and the README")

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme_table():
    text = README.read_text()
    for setting in config.SETTINGS:
        assert f"`INQUIRY_DOCS_{setting.name}`" in text, setting.name
    assert config.settings_table() in text


def test_required_settings_exist():
    names = {s.name for s in config.SETTINGS}
    assert {"DATABASE_URL", "UPLOAD_DIR", "INDEX_DIR", "SECRET_KEY", "MAX_UPLOAD_MB"} <= names


def test_environment_overrides_defaults(tmp_path):
    values = config.load({
        "INQUIRY_DOCS_INSTANCE_DIR": str(tmp_path),
        "INQUIRY_DOCS_MAX_UPLOAD_MB": "7",
        "INQUIRY_DOCS_UPLOAD_DIR": str(tmp_path / "u"),
    })
    assert values["MAX_UPLOAD_MB"] == 7
    assert values["UPLOAD_DIR"] == str(tmp_path / "u")
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inquiry_docs.db'}"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = config.load({"INQUIRY_DOCS_INSTANCE_DIR": str(tmp_path)})
    config.finalise(first)
    second = config.load({"INQUIRY_DOCS_INSTANCE_DIR": str(tmp_path)})
    config.finalise(second)
    assert first["SECRET_KEY"] and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
