"""Access data encrypted at rest (clause 4): AES-256-GCM under a key kept in a file of its own.

The key is never in the database or the repository: it lives in a file (Settings
`secret_key_file`, by default `~/.config/callcenter/secret.key`) created with mode 0600 on
first use, and a file that others may read is refused. Each sealed value is
`version (1 byte) | nonce (12 random bytes) | ciphertext + tag`, and is stored beside the id of
the key that sealed it (a digest of the key, not the key), so a lost or replaced key file is
told apart from a damaged value. The associated data names what the value is (the ticket and
the field), so a sealed value moved to another ticket does not open.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_BYTES = 32
_HEADER = "callcenter-secret-key-v1"


class SecretError(Exception):
    """A secret cannot be sealed or opened; the message is one line, and holds no secret."""


class SecretKeyError(SecretError):
    """The key file is missing, unsafe, malformed, or not the key a value was sealed with."""


class SecretIntegrityError(SecretError):
    """A sealed value was altered, or belongs to another record."""


@dataclass(frozen=True)
class Sealed:
    """A value as stored: the sealing key's id and the sealed bytes."""

    key_id: str
    blob: bytes = field(repr=False)


@dataclass(frozen=True)
class SecretKey:
    """The key, where it came from, and its id. Its repr never shows the key."""

    path: Path
    key: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"callcenter key id\x00" + self.key).hexdigest()[:16]

    def seal(self, plaintext: bytes, associated: bytes) -> Sealed:
        nonce = os.urandom(_NONCE_BYTES)
        blob = _VERSION + nonce + AESGCM(self.key).encrypt(nonce, plaintext, associated)
        return Sealed(self.key_id, blob)

    def open(self, sealed: Sealed, associated: bytes, what: str) -> bytes:
        """The plaintext; `what` names the value in the error ("access data of ticket #3")."""
        if sealed.key_id != self.key_id:
            raise SecretKeyError(
                f"{what} cannot be decrypted: the key file {self.path} is not the one it was "
                f"encrypted with (key {sealed.key_id}, this file holds key {self.key_id})"
            )
        blob = sealed.blob
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
            raise SecretIntegrityError(f"{what} cannot be decrypted: it is not a sealed value")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return AESGCM(self.key).decrypt(nonce, body, associated)
        except InvalidTag:
            raise SecretIntegrityError(
                f"{what} cannot be decrypted: it was altered or belongs to another record"
            ) from None


def load_key(path: str | Path, create: bool = True) -> SecretKey:
    """The key in `path`, created (mode 0600, in a 0700 directory) when absent and `create`.

    Raises SecretKeyError when the file is missing (and not to be created), readable or
    writable by group or others, owned by another user, or not a key file."""
    where = Path(path).expanduser()
    if create and not where.exists():
        _create(where)
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise SecretKeyError(
            f"the secret key file {where} does not exist: access data cannot be decrypted "
            "without the key it was encrypted with"
        ) from None
    except OSError as error:
        raise SecretKeyError(
            f"the secret key file {where} cannot be read: {error.strerror}"
        ) from None
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as handle:
        info = os.fstat(handle.fileno())
        _check_mode(where, info)
        text = handle.read(4096)
    return SecretKey(path=where, key=_parse(where, text))


def _check_mode(where: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SecretKeyError(f"the secret key file {where} is not a regular file")
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise SecretKeyError(
            f"the secret key file {where} is open to other users (mode {mode:04o}): "
            f"run `chmod 600 {where}`"
        )
    if info.st_uid != os.geteuid():
        raise SecretKeyError(f"the secret key file {where} belongs to another user")


def _parse(where: Path, text: str) -> bytes:
    lines = text.split()
    try:
        if len(lines) != 2 or lines[0] != _HEADER:
            raise ValueError
        key = base64.b64decode(lines[1], validate=True)
    except (ValueError, binascii.Error):
        raise SecretKeyError(f"the secret key file {where} is not a callcenter key") from None
    if len(key) != _KEY_BYTES:
        raise SecretKeyError(f"the secret key file {where} is not a callcenter key")
    return key


def _create(where: Path) -> None:
    """Write a new key under a temporary name, then link it into place: a reader never sees a
    half-written file, and when another process made the key first, theirs is kept."""
    where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = f"{_HEADER}\n{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}\n"
    temporary = where.with_name(f".{where.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(temporary, where)
    finally:
        temporary.unlink(missing_ok=True)
