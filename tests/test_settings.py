"""One reading of the settings, for the app and the command line alike."""

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.exceptions import InvalidInput
from lrs.settings import DEFAULTS, Settings, load_settings
from tests.support import make_app


def test_defaults_then_environment_then_overrides():
    environ = {
        "LRS_MAX_BODY_BYTES": "2000",
        "LRS_CORS_ORIGINS": '["https://a.example"]',
        "LRS_ACCOUNT_HOMEPAGE": "https://lrs.example",
        "OTHER": "ignored",
    }
    settings = load_settings({"ACCOUNT_HOMEPAGE": "https://given.example"}, environ)
    assert settings["MAX_BODY_BYTES"] == 2000  # JSON when it is JSON
    assert settings["CORS_ORIGINS"] == ["https://a.example"]
    assert settings["ACCOUNT_HOMEPAGE"] == "https://given.example"  # overrides win
    assert settings["XAPI_DEFAULT_VERSION"] == DEFAULTS["XAPI_DEFAULT_VERSION"]
    assert "OTHER" not in settings


def test_the_app_reads_the_environment_through_the_settings(monkeypatch):
    monkeypatch.setenv("LRS_MAX_BODY_BYTES", "1234")
    app = make_app()
    assert app.config["MAX_BODY_BYTES"] == 1234
    assert app.config["MAX_CONTENT_LENGTH"] == 1234


def test_the_command_line_reads_the_storage_url_through_the_settings(monkeypatch):
    monkeypatch.setenv("LRS_STORAGE_URL", "redis://nowhere")
    result = CliRunner().invoke(main, ["credentials", "list"])
    assert result.exit_code == 1
    assert "unknown storage URL scheme 'redis'" in result.output


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_GAP_SECONDS", "-5", "LRS_SESSION_GAP_SECONDS must be a number of seconds"),
        ("MAX_BODY_BYTES", "lots", "LRS_MAX_BODY_BYTES must be a number of bytes"),
        ("XAPI_DEFAULT_VERSION", "3.0.0", "LRS_XAPI_DEFAULT_VERSION must be one of"),
        ("EXPORTS_AT_ONCE", "0", "LRS_EXPORTS_AT_ONCE must be a number of exports"),
        ("CORS_ORIGINS", "7", "LRS_CORS_ORIGINS must be"),
        ("WEBHOOK_URL", "http://127.0.0.1:9/hook", "LRS_WEBHOOK_SECRET must be set"),
    ],
)
def test_a_bad_setting_stops_the_app_and_every_command_with_one_message(
    monkeypatch, tmp_path, name, value, message
):
    monkeypatch.setenv(f"LRS_{name}", value)
    with pytest.raises(InvalidInput) as refused:
        Settings.load()
    assert message in str(refused.value)
    with pytest.raises(InvalidInput, match=message.split(" must")[0]):
        make_app()
    result = CliRunner().invoke(
        main,
        ["credentials", "create", "--role", "admin", "--storage", f"sqlite:///{tmp_path}/lrs.db"],
    )
    assert result.exit_code == 1
    assert str(refused.value) in result.output


def test_the_settings_are_typed_once_read():
    settings = Settings.load({"CORS_ORIGINS": ["https://a.example"], "SESSION_GAP_SECONDS": 60})
    assert settings.cors_origins == ("https://a.example",)
    assert settings.session_gap_seconds == 60.0
    assert settings.max_body_bytes == DEFAULTS["MAX_BODY_BYTES"]
    assert Settings.load({"CORS_ORIGINS": "*"}).cors_origins == "*"


def test_a_body_larger_than_a_mongodb_document_is_refused_with_mongodb_storage():
    from lrs.settings import MONGO_MAX_BODY_BYTES

    with pytest.raises(InvalidInput, match="LRS_MAX_BODY_BYTES .* MongoDB"):
        Settings.load(
            {"STORAGE_URL": "mongodb://127.0.0.1:9/lrs", "MAX_BODY_BYTES": 17 * 1024 * 1024}
        )
    kept = Settings.load(
        {"STORAGE_URL": "mongodb://127.0.0.1:9/lrs", "MAX_BODY_BYTES": MONGO_MAX_BODY_BYTES}
    )
    assert kept.max_body_bytes == MONGO_MAX_BODY_BYTES
    # Other stores hold more: the same setting is theirs to make.
    assert Settings.load({"MAX_BODY_BYTES": 17 * 1024 * 1024}).max_body_bytes == 17 * 1024 * 1024
