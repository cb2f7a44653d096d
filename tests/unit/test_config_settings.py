"""Settings from CALLCENTER_* variables (callcenter/config.py): a bad value is one clear
error naming the variable, never a traceback; a value that may be a secret is not shown."""

from __future__ import annotations

import dataclasses

import pytest

from callcenter.config import SettingError, Settings


def test_defaults_without_variables() -> None:
    assert Settings.from_env({}) == Settings()


def test_good_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "CALLCENTER_AMI_PORT": " 5039 ",
            "CALLCENTER_AGI_DEADLINE": "0.5",
            "CALLCENTER_WEB_SECURE_COOKIES": "yes",
            "CALLCENTER_REGION": "de",
            "CALLCENTER_DATABASE_URL": "postgresql://u:p@h/db",
        }
    )
    assert settings.ami_port == 5039
    assert settings.agi_deadline == 0.5
    assert settings.web_secure_cookies is True
    assert settings.region == "DE"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AMI_PORT", "abc", "CALLCENTER_AMI_PORT: 'abc' is not a port number"),
        ("AMI_PORT", "99999", "CALLCENTER_AMI_PORT: port 99999 is not between 1 and 65535"),
        ("AGI_PORT", "0", "CALLCENTER_AGI_PORT: port 0 is not between 1 and 65535"),
        ("AGI_PORT", "-1", "CALLCENTER_AGI_PORT: port -1"),
        ("WEB_PORT", "8000.5", "CALLCENTER_WEB_PORT: '8000.5' is not a port number"),
        ("WEB_PORT", "9" * 400, "CALLCENTER_WEB_PORT: port 9999"),
        ("AGI_DEADLINE", "soon", "CALLCENTER_AGI_DEADLINE: 'soon' is not a number"),
        ("AGI_DEADLINE", "nan", "CALLCENTER_AGI_DEADLINE: 'nan' is not a positive duration"),
        ("AGI_DEADLINE", "inf", "CALLCENTER_AGI_DEADLINE: 'inf' is not a positive duration"),
        ("AGI_DEADLINE", "0", "CALLCENTER_AGI_DEADLINE: '0' is not a positive duration"),
        ("CALLBACK_WINDOW_MIN", "-5", "CALLCENTER_CALLBACK_WINDOW_MIN: '-5' is not a positive"),
        ("WEB_SESSION_IDLE_MIN", "1e400", "CALLCENTER_WEB_SESSION_IDLE_MIN: '1e400'"),
        ("WEB_TOKEN_TTL_MIN", "", "CALLCENTER_WEB_TOKEN_TTL_MIN: '' is not a number"),
        ("WEB_WS_RECHECK_S", "x" * 100, "CALLCENTER_WEB_WS_RECHECK_S: '" + "x" * 40 + "...'"),
        ("WEB_SECURE_COOKIES", "maybe", "CALLCENTER_WEB_SECURE_COOKIES: 'maybe' is not 1/0"),
        ("REGION", "Polska", "CALLCENTER_REGION: 'POLSKA' is not a region code"),
        ("AMI_HOST", "127.0.0.1\n", "CALLCENTER_AMI_HOST: a control character at position 10"),
        ("PASSWORD_MIN_LENGTH", "four", "CALLCENTER_PASSWORD_MIN_LENGTH: 'four' is not a whole"),
        ("PASSWORD_MIN_LENGTH", "0", "CALLCENTER_PASSWORD_MIN_LENGTH: 0 is not between 1 and 128"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        Settings.from_env({f"CALLCENTER_{name}": value})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_bad_secret_or_url_is_named_but_not_shown() -> None:
    with pytest.raises(SettingError, match="CALLCENTER_AMI_SECRET") as caught:
        Settings.from_env({"CALLCENTER_AMI_SECRET": "s3cret\x00"})
    assert "s3cret" not in str(caught.value)
    with pytest.raises(SettingError, match="CALLCENTER_DATABASE_URL") as caught:
        Settings.from_env({"CALLCENTER_DATABASE_URL": "not a url with pa55word"})
    assert "pa55word" not in str(caught.value)


def test_every_setting_is_read_from_its_variable() -> None:
    """Each field of Settings has its CALLCENTER_* variable (none is forgotten)."""
    for field in dataclasses.fields(Settings):
        variable = f"CALLCENTER_{field.name.upper()}"
        with pytest.raises(SettingError, match=variable):
            Settings.from_env({variable: "\x07"})


def test_the_shortest_password_is_8_unless_set() -> None:
    assert Settings.from_env({}).password_min_length == 8
    assert Settings.from_env({"CALLCENTER_PASSWORD_MIN_LENGTH": " 4 "}).password_min_length == 4
