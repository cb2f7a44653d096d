"""Settings: one object, read from `CALLCENTER_*` environment variables, passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url


def _flag(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: str) -> str:
            return env.get(f"CALLCENTER_{name.upper()}", default)

        return cls(
            database_url=get("database_url", defaults.database_url),
            region=get("region", defaults.region),
            ami_host=get("ami_host", defaults.ami_host),
            ami_port=int(get("ami_port", str(defaults.ami_port))),
            ami_user=get("ami_user", defaults.ami_user),
            ami_secret=get("ami_secret", defaults.ami_secret),
            agi_host=get("agi_host", defaults.agi_host),
            agi_port=int(get("agi_port", str(defaults.agi_port))),
            agi_deadline=float(get("agi_deadline", str(defaults.agi_deadline))),
            asterisk_log_dir=get("asterisk_log_dir", defaults.asterisk_log_dir),
            callback_window_min=float(
                get("callback_window_min", str(defaults.callback_window_min))
            ),
            web_host=get("web_host", defaults.web_host),
            web_port=int(get("web_port", str(defaults.web_port))),
            web_session_idle_min=float(
                get("web_session_idle_min", str(defaults.web_session_idle_min))
            ),
            web_token_ttl_min=float(get("web_token_ttl_min", str(defaults.web_token_ttl_min))),
            web_secure_cookies=_flag(get("web_secure_cookies", "")),
            web_ws_recheck_s=float(get("web_ws_recheck_s", str(defaults.web_ws_recheck_s))),
            secret_key_file=get("secret_key_file", _default_key_file(env)),
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
