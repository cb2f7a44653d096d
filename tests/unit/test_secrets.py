"""Access data sealed at rest (clause 4): AES-GCM under a key file of mode 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from callcenter.config import Settings
from callcenter.secrets import (
    Sealed,
    SecretIntegrityError,
    SecretKeyError,
    load_key,
)

AAD = b"callcenter ticket #7 access_data v1"


def test_the_key_file_is_created_on_first_use_with_mode_0600_in_a_0700_dir(
    tmp_path: Path,
) -> None:
    path = tmp_path / "conf" / "callcenter" / "secret.key"
    key = load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = load_key(path)
    assert again.key == key.key and again.key_id == key.key_id
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_round_trip_with_a_random_nonce(tmp_path: Path) -> None:
    key = load_key(tmp_path / "k")
    first, second = key.seal(b"hunter2", AAD), key.seal(b"hunter2", AAD)
    assert first.blob != second.blob  # a fresh nonce each time
    assert b"hunter2" not in first.blob
    assert key.open(first, AAD, "access data of ticket #7") == b"hunter2"


def test_a_tampered_value_is_detected(tmp_path: Path) -> None:
    key = load_key(tmp_path / "k")
    sealed = key.seal(b"hunter2", AAD)
    flipped = bytearray(sealed.blob)
    flipped[-1] ^= 1
    with pytest.raises(SecretIntegrityError, match="altered or belongs to another record"):
        key.open(Sealed(sealed.key_id, bytes(flipped)), AAD, "access data of ticket #7")
    with pytest.raises(SecretIntegrityError, match="not a sealed value"):
        key.open(Sealed(sealed.key_id, b"\x01short"), AAD, "access data of ticket #7")


def test_a_value_moved_to_another_ticket_does_not_open(tmp_path: Path) -> None:
    key = load_key(tmp_path / "k")
    sealed = key.seal(b"hunter2", AAD)
    with pytest.raises(SecretIntegrityError):
        key.open(sealed, b"callcenter ticket #8 access_data v1", "access data of ticket #8")


def test_a_wrong_key_is_explained_in_one_line(tmp_path: Path) -> None:
    sealed = load_key(tmp_path / "old.key").seal(b"hunter2", AAD)
    other = load_key(tmp_path / "new.key")
    with pytest.raises(SecretKeyError) as caught:
        other.open(sealed, AAD, "access data of ticket #7")
    message = str(caught.value)
    assert message.startswith(
        f"access data of ticket #7 cannot be decrypted: the key file {tmp_path / 'new.key'} "
        "is not the one it was encrypted with"
    )
    assert "\n" not in message
    assert other.key.hex() not in message and "hunter2" not in message


def test_a_key_file_open_to_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    load_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(SecretKeyError, match=r"open to other users \(mode 0644\): run `chmod 600"):
        load_key(path)
    os.chmod(path, 0o640)
    with pytest.raises(SecretKeyError, match="mode 0640"):
        load_key(path)


def test_a_missing_key_file_is_explained_when_not_to_be_created(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="does not exist: access data cannot be decrypted"):
        load_key(tmp_path / "gone.key", create=False)


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"callcenter-secret-key-v1\nnot base64!\n")
    os.close(fd)
    with pytest.raises(SecretKeyError, match="is not a callcenter key"):
        load_key(path)


def test_the_key_never_shows_in_a_repr(tmp_path: Path) -> None:
    key = load_key(tmp_path / "k")
    sealed = key.seal(b"hunter2", AAD)
    assert key.key.hex() not in repr(key) and repr(key.key) not in repr(key)
    assert repr(sealed.blob) not in repr(sealed)


def test_settings_name_the_key_file(tmp_path: Path) -> None:
    assert Settings.from_env({}).secret_key_file == "~/.config/callcenter/secret.key"
    assert Settings.from_env({"XDG_CONFIG_HOME": str(tmp_path)}).secret_key_file == str(
        tmp_path / "callcenter" / "secret.key"
    )
    chosen = Settings.from_env({"CALLCENTER_SECRET_KEY_FILE": "/srv/cc/key"})
    assert chosen.secret_key_file == "/srv/cc/key"
