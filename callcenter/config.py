"""Settings: one object, read from `CALLCENTER_*` environment variables, passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from callcenter.domain.accounts import MIN_PASSWORD


class SettingError(ValueError):
    """A `CALLCENTER_*` variable that cannot be used; the message names it."""


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}
_LONGEST_SECONDS = 366 * 24 * 3600.0  # no setting waits longer than a year


class _Reader:
    """Reads one kind of value from a `CALLCENTER_*` variable, or says what is wrong."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def _raw(self, name: str) -> tuple[str, str | None]:
        variable = f"CALLCENTER_{name.upper()}"
        return variable, self.env.get(variable)

    def text(self, name: str, default: str) -> str:
        variable, value = self._raw(name)
        if value is None:
            return default
        bad = next((i for i, ch in enumerate(value) if not ch.isprintable()), None)
        if bad is not None:  # (the value is not shown: it may be a secret)
            raise SettingError(f"{variable}: a control character at position {bad + 1}")
        return value

    def url(self, name: str, default: str) -> str:
        variable = f"CALLCENTER_{name.upper()}"
        value = self.text(name, default)
        try:
            make_url(value)
        except ArgumentError:  # (the value is not shown: it may hold a password)
            raise SettingError(
                f"{variable}: not a database URL (e.g. sqlite:///callcenter.db or "
                "postgresql://user:password@host/db)"
            ) from None
        return value

    def region(self, name: str, default: str) -> str:
        variable = f"CALLCENTER_{name.upper()}"
        value = self.text(name, default).strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingError(f"{variable}: {_shown(value)} is not a region code (e.g. PL)")
        return value

    def port(self, name: str, default: int) -> int:
        variable, value = self._raw(name)
        if value is None:
            return default
        try:
            port = int(value.strip())
        except ValueError:
            raise SettingError(f"{variable}: {_shown(value)} is not a port number") from None
        if not 1 <= port <= 65535:
            raise SettingError(f"{variable}: port {port} is not between 1 and 65535")
        return port

    def count(self, name: str, default: int, low: int, high: int) -> int:
        """A whole number from `low` to `high`."""
        variable, value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise SettingError(f"{variable}: {_shown(value)} is not a whole number") from None
        if not low <= number <= high:
            raise SettingError(f"{variable}: {number} is not between {low} and {high}")
        return number

    def seconds(self, name: str, default: float) -> float:
        """A positive, finite duration (seconds or minutes, as the setting's name says)."""
        variable, value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value.strip())
        except ValueError:
            raise SettingError(f"{variable}: {_shown(value)} is not a number") from None
        if not 0 < number <= _LONGEST_SECONDS:  # also refuses nan and inf
            raise SettingError(f"{variable}: {_shown(value)} is not a positive duration")
        return number

    def flag(self, name: str) -> bool:
        variable, value = self._raw(name)
        word = (value or "").strip().lower()
        if word not in _TRUE | _FALSE:
            raise SettingError(f"{variable}: {_shown(value or '')} is not 1/0 (yes/no)")
        return word in _TRUE


def _shown(value: str, limit: int = 40) -> str:
    cut = value if len(value) <= limit else value[:limit] + "..."
    return repr(cut)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///callcenter.db"
    region: str = "PL"
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "callcenter"
    ami_secret: str = "callcenter-secret"
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_deadline: float = 1.5
    # Where Asterisk writes queue_log and cdr-custom/Master.csv (read after a gap).
    asterisk_log_dir: str = ".run/asterisk/log"
    # A covered caller calling again within this many minutes joins the same open callback.
    callback_window_min: float = 120.0
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # A browser session ends after this many minutes without a request; an API token after
    # web_token_ttl_min from its issue, used or not.
    web_session_idle_min: float = 30.0
    web_token_ttl_min: float = 60.0
    # Send the session cookie only over HTTPS (set it when the app is behind TLS).
    web_secure_cookies: bool = False
    # An open screen's login (its WebSocket) is checked again this often: logout, a disabled
    # account or expiry closes it. (The check also keeps a cookie session from going idle.)
    web_ws_recheck_s: float = 30.0
    # The key that encrypts tickets' access data: never in the database or the repository.
    secret_key_file: str = "~/.config/callcenter/secret.key"
    # The shortest password `users add` accepts (the live demo's "demo" needs 4).
    password_min_length: int = MIN_PASSWORD

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from `CALLCENTER_*` variables; `SettingError` names a bad one."""
        read = _Reader(os.environ if env is None else env)
        d = cls()
        return cls(
            database_url=read.url("database_url", d.database_url),
            region=read.region("region", d.region),
            ami_host=read.text("ami_host", d.ami_host),
            ami_port=read.port("ami_port", d.ami_port),
            ami_user=read.text("ami_user", d.ami_user),
            ami_secret=read.text("ami_secret", d.ami_secret),
            agi_host=read.text("agi_host", d.agi_host),
            agi_port=read.port("agi_port", d.agi_port),
            agi_deadline=read.seconds("agi_deadline", d.agi_deadline),
            asterisk_log_dir=read.text("asterisk_log_dir", d.asterisk_log_dir),
            callback_window_min=read.seconds("callback_window_min", d.callback_window_min),
            web_host=read.text("web_host", d.web_host),
            web_port=read.port("web_port", d.web_port),
            web_session_idle_min=read.seconds("web_session_idle_min", d.web_session_idle_min),
            web_token_ttl_min=read.seconds("web_token_ttl_min", d.web_token_ttl_min),
            web_secure_cookies=read.flag("web_secure_cookies"),
            web_ws_recheck_s=read.seconds("web_ws_recheck_s", d.web_ws_recheck_s),
            secret_key_file=read.text("secret_key_file", _default_key_file(read.env)),
            password_min_length=read.count("password_min_length", d.password_min_length, 1, 128),
        )

    def __repr__(self) -> str:  # never print the AMI secret or a database password
        url = make_url(self.database_url).render_as_string(hide_password=True)
        return (
            f"Settings(database_url={url!r}, ami={self.ami_user}@{self.ami_host}:{self.ami_port})"
        )


def _default_key_file(env: Mapping[str, str]) -> str:
    """`$XDG_CONFIG_HOME/callcenter/secret.key`, else `~/.config/callcenter/secret.key`."""
    base = env.get("XDG_CONFIG_HOME", "")
    if base and os.path.isabs(base):
        return os.path.join(base, "callcenter", "secret.key")
    return Settings.secret_key_file
