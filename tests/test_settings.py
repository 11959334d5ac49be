"""One reading of the settings, for the app and the command line alike."""

from click.testing import CliRunner

from lrs.cli import main
from lrs.settings import DEFAULTS, load_settings
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
