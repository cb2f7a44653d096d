"""Drive a real local Asterisk from tests: start/stop it, place sipp calls, run operators.

Stdlib only, no pytest. The pytest fixtures are in `conftest_asterisk.py`.

Topology (fixed, see asterisk-conf/pjsip.conf): Asterisk SIP on 127.0.0.1:5060, the carrier
trunk is 127.0.0.2, operators opN are sipp servers on 127.0.0.1:507N, AMI on 127.0.0.1:5038,
the FastAGI routing service on 127.0.0.1:4573.

Every wait here is bounded and waits on a fact (a log line, a bound port, a sipp event, an
AMI frame): subprocesses get a timeout, sockets a deadline, and a wait that runs out names
what never happened (tests/support/waits.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.support.waits import (
    NeverHappenedError,
    port_accepts,
    read_from,
    wait_for,
    wait_for_line,
)

__all__ = ["NeverHappenedError", "port_accepts"]  # re-exported: the tests import them from here

REPO = Path(__file__).resolve().parents[2]
LOCAL_ASTERISK = REPO / "asterisk-conf" / "local-asterisk"
SIPP_DIR = REPO / "tests" / "sipp"

ASTERISK_SIP = ("127.0.0.1", 5060)
TRUNK_IP = "127.0.0.2"
OPERATOR_IP = "127.0.0.1"
AMI_ADDRESS = ("127.0.0.1", 5038)
AMI_USER = "callcenter"
AMI_SECRET = "callcenter-secret"  # the test value from asterisk-conf/manager.conf
AGI_ADDRESS = ("127.0.0.1", 4573)
SUPPORT_NUMBER = "800123456"

# First start may provision the Asterisk chroot (debootstrap + apt): about a minute on a
# good mirror, a few on a slow one.
START_TIMEOUT = 900.0


class HarnessError(RuntimeError):
    """Something around the system under test failed (not the system itself)."""


def _run(args: Sequence[str], timeout: float, env: Mapping[str, str] | None = None) -> str:
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"{' '.join(args)}: no result after {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise HarnessError(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stderr.strip()}\n{done.stdout}"
        )
    return done.stdout


# --------------------------------------------------------------------------------------
# The local Asterisk
# --------------------------------------------------------------------------------------


class LocalAsterisk:
    """The Asterisk run by asterisk-conf/local-asterisk."""

    def __init__(self, script: Path = LOCAL_ASTERISK, env: Mapping[str, str] | None = None):
        self.script = script
        self.env = dict(os.environ if env is None else env)
        self._run_dir: Path | None = None

    @property
    def run_dir(self) -> Path:
        if self._run_dir is None:
            out = _run([str(self.script), "paths"], timeout=30, env=self.env)
            values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            self._run_dir = Path(values["run"])
        return self._run_dir

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    @property
    def full_log(self) -> Path:
        """Verbose log: dialplan steps and "Playing 'callcenter/<prompt>...'" lines."""
        return self.log_dir / "full"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        _run([str(self.script), "start"], timeout=timeout, env=self.env)

    def stop(self, timeout: float = 90.0) -> None:
        _run([str(self.script), "stop"], timeout=timeout, env=self.env)

    def is_running(self) -> bool:
        done = subprocess.run(
            [str(self.script), "status"], capture_output=True, timeout=30, env=self.env, check=False
        )
        return done.returncode == 0

    def cli(self, command: str, timeout: float = 30.0) -> str:
        """One Asterisk CLI command (asterisk -rx); returns its output."""
        return _run([str(self.script), "cli", command], timeout=timeout, env=self.env)

    def log_offset(self) -> int:
        """Where the full log ends now; pass to log_since() to read what comes after."""
        try:
            return self.full_log.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        return read_from(self.full_log, offset)

    def wait_for_log(self, pattern: str, offset: int, timeout: float = 10.0) -> re.Match[str]:
        """Wait until a regex appears in the full log after `offset`."""
        return wait_for_line(
            self.full_log,
            pattern,
            offset=offset,
            timeout=timeout,
            what=f"{pattern!r} in Asterisk's {self.full_log}",
        )

    def played_prompts(self, channel: str, offset: int) -> list[tuple[str, str]]:
        """(prompt, language) pairs Asterisk played on a channel, from the full log.

        Asterisk logs, at verbose level 3, for every file it starts to play:
        ``<PJSIP/trunk-00000003> Playing 'callcenter/no_contract.slin' (language 'pl')``.
        A missing file logs a warning instead, so a match means the file existed.
        """
        regex = re.compile(
            rf"<{re.escape(channel)}> Playing '([^']+?)\.[a-z0-9]+' \(language '([a-z_]+)'\)"
        )
        return [(m[1], m[2]) for m in regex.finditer(self.log_since(offset))]


# --------------------------------------------------------------------------------------
# sipp
# --------------------------------------------------------------------------------------

Hangup = Literal["caller", "asterisk"]


@dataclass(frozen=True)
class CallerResult:
    """What a sipp caller saw. `returncode` 0 means the scenario ended as expected."""

    returncode: int
    answered: bool
    hung_up_by: Hangup | None
    sip_call_id: str | None
    workdir: Path
    output: str

    def check(self) -> CallerResult:
        if self.returncode != 0:
            raise HarnessError(
                f"sipp caller failed (exit {self.returncode}), see {self.workdir}:\n{self.output}"
            )
        return self


def _sipp() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise HarnessError("sipp is not installed (apt-get install sip-tester)")
    return path


_workdir_counter = 0


def _workdir(run_dir: Path, name: str) -> Path:
    """A fresh directory for one sipp run's logs, kept for debugging under <run>/sipp."""
    global _workdir_counter  # noqa: PLW0603 - a per-process counter for unique names
    _workdir_counter += 1
    path = (
        run_dir
        / "sipp"
        / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{_workdir_counter}-{name}"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_sip_text(name: str, value: str) -> None:
    if any(ch in value for ch in '"\\\r\n<>'):
        raise ValueError(f"{name} cannot carry quotes, backslashes, angle brackets or newlines")


def run_caller(
    number: str,
    display_name: str,
    *,
    use_pai: bool = True,
    hold_seconds: float = 5.0,
    extension: str = SUPPORT_NUMBER,
    scenario: str | None = None,
    run_dir: Path | None = None,
    timeout: float | None = None,
) -> CallerResult:
    """Place one call from the trunk (127.0.0.2) to Asterisk and wait for it to end.

    The caller ID is sent in P-Asserted-Identity (`use_pai`) or in From only. After Asterisk
    answers, the caller stays `hold_seconds` on the line and hangs up, unless Asterisk hangs
    up first (both end with exit code 0; `hung_up_by` tells which). `scenario` overrides the
    file, e.g. "caller_abandon.xml" (fails if Asterisk hangs up first) or
    "caller_withheld.xml".
    """
    _check_sip_text("number", number)
    _check_sip_text("display_name", display_name)
    name = scenario or ("caller_pai.xml" if use_pai else "caller_from.xml")
    workdir = _workdir(run_dir or LocalAsterisk().run_dir, Path(name).stem)
    log_file = workdir / "actions.log"
    limit = timeout if timeout is not None else hold_seconds + 90.0
    args = [
        _sipp(),
        f"{ASTERISK_SIP[0]}:{ASTERISK_SIP[1]}",
        "-i", TRUNK_IP,
        "-sf", str(SIPP_DIR / name),
        "-s", extension,
        "-m", "1",
        "-d", str(round(hold_seconds * 1000)),
        "-key", "caller_number", number,
        "-key", "caller_name", display_name,
        "-rtp_echo",
        "-nostdin",
        "-trace_logs", "-log_file", str(log_file),
        "-trace_err",
        "-timeout", f"{round(limit)}s", "-timeout_error",
    ]  # fmt: skip
    with (workdir / "sipp.out").open("w") as out:
        try:
            done = subprocess.run(
                args, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                timeout=limit + 15, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"sipp caller still running after {limit + 15:.0f} s") from exc
    actions = log_file.read_text(errors="replace") if log_file.exists() else ""
    hung_up_by: Hangup | None = None
    if "HANGUP_BY=asterisk" in actions:
        hung_up_by = "asterisk"
    elif "HANGUP_BY=caller" in actions:
        hung_up_by = "caller"
    call_id = re.search(r"CALL_ID=(\S+)", actions)
    tail = (workdir / "sipp.out").read_text(errors="replace")[-3000:]
    return CallerResult(
        returncode=done.returncode,
        answered="ANSWERED" in actions,
        hung_up_by=hung_up_by,
        sip_call_id=call_id[1] if call_id else None,
        workdir=workdir,
        output=actions + tail,
    )


Behaviour = Literal["answer", "ring", "busy", "transfer"]
_UAS_SCENARIO: dict[Behaviour, str] = {
    "answer": "uas_answer.xml",
    "transfer": "uas_transfer.xml",  # answers, then # + `transfer_to` (blind transfer)
    "ring": "uas_ring.xml",
    "busy": "uas_busy.xml",
}


def _udp_port_bound(ip: str, port: int) -> bool:
    """Is a UDP socket bound to ip:port? (read from /proc, without touching the port)"""
    wanted = f"{socket.htonl(int.from_bytes(socket.inet_aton(ip), 'big')):08X}:{port:04X}"
    for table in ("/proc/net/udp",):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return False
        if any(line.split()[1] == wanted for line in lines if len(line.split()) > 1):
            return True
    return False


@dataclass
class Operator:
    """An operator's phone: a sipp server on 127.0.0.1:507N for endpoint opN.

    Use as a context manager. `behaviour`: "answer" (after `ring_seconds`), "ring" (never
    answers, 487 on CANCEL) or "busy" (486).
    """

    number: int
    behaviour: Behaviour = "answer"
    ring_seconds: float = 0.0
    run_dir: Path | None = None
    ip: str = OPERATOR_IP
    sip_port: int | None = None  # another phone than an operator's (e.g. Customer)
    transfer_to: int = 2  # "transfer": the colleague's digit pressed after #
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _workdir: Path | None = field(default=None, init=False, repr=False)

    @property
    def port(self) -> int:
        return self.sip_port if self.sip_port is not None else 5070 + self.number

    @property
    def name(self) -> str:
        return f"op{self.number}" if self.sip_port is None else f"phone-{self.ip}-{self.port}"

    @property
    def log_file(self) -> Path:
        if self._workdir is None:
            raise HarnessError("operator not started")
        return self._workdir / "actions.log"

    def start(self, timeout: float = 10.0) -> Operator:
        if self.sip_port is None and self.number not in (1, 2, 3):
            raise ValueError("operators are op1, op2, op3")
        if _udp_port_bound(self.ip, self.port):
            raise HarnessError(f"{self.ip}:{self.port} is in use (a stray sipp?)")
        self._workdir = _workdir(self.run_dir or LocalAsterisk().run_dir, self.name)
        args = [
            _sipp(),
            "-sf", str(SIPP_DIR / _UAS_SCENARIO[self.behaviour]),
            "-i", self.ip,
            "-p", str(self.port),
            "-d", str(round(self.ring_seconds * 1000)),
            "-mp", str(16000 + 100 * self.number),
            "-rtp_echo",
            "-nostdin",
            "-trace_logs", "-log_file", str(self.log_file),
            "-trace_err",
            "-key", "transfer_to", str(self.transfer_to),
        ]  # fmt: skip
        out = (self._workdir / "sipp.out").open("wb")
        self._process = subprocess.Popen(
            args, cwd=self._workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        try:
            wait_for(self._listening, timeout, f"{self.name}'s sipp bound to {self.ip}:{self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def _listening(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise HarnessError(f"operator sipp exited: see {self._workdir}/sipp.out")
        return _udp_port_bound(self.ip, self.port)

    def events(self) -> list[tuple[str, str]]:
        """(event, SIP Call-ID) lines: INVITED, ANSWERED, BYE, CANCELLED, BUSY."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return re.findall(r"^(\w+) CALL_ID=(\S+)", text, flags=re.MULTILINE)

    def wait_for_event(self, event: str, timeout: float = 10.0) -> None:
        """Until this phone's sipp has logged `event` (e.g. ANSWERED, BYE)."""
        wait_for(
            lambda: any(e == event for e, _ in self.events()),
            timeout,
            f"{event} on {self.name}'s phone",
            every=0.1,
            last=self.events,
        )

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGUSR1)  # sipp: stop gracefully
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)

    def __enter__(self) -> Operator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


CUSTOMER_PORT = 5090  # where the trunk's calls out go (pjsip.conf [trunk] aor)


def Customer(behaviour: Behaviour = "answer", ring_seconds: float = 0.0) -> Operator:  # noqa: N802
    """The customer's phone behind the carrier: a sipp server on 127.0.0.2:5090, where
    Asterisk's calls out through the trunk (callbacks) arrive."""
    return Operator(0, behaviour, ring_seconds, ip=TRUNK_IP, sip_port=CUSTOMER_PORT)


# --------------------------------------------------------------------------------------
# AMI: a small event collector (the project's real listener lives in callcenter/pbx)
# --------------------------------------------------------------------------------------

Frame = dict[str, str]


class AmiEvents:
    """Logs in to the AMI and collects every frame in a background thread."""

    def __init__(
        self,
        address: tuple[str, int] = AMI_ADDRESS,
        username: str = AMI_USER,
        secret: str = AMI_SECRET,
        timeout: float = 10.0,
    ):
        self.address = address
        self.username = username
        self.secret = secret
        self.timeout = timeout
        self.frames: list[Frame] = []
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def __enter__(self) -> AmiEvents:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        self._sock = sock
        self._thread = threading.Thread(target=self._reader, name="ami-reader", daemon=True)
        self._thread.start()
        sock.sendall(
            (
                f"Action: Login\r\nActionID: login\r\nUsername: {self.username}\r\n"
                f"Secret: {self.secret}\r\nEvents: on\r\n\r\n"
            ).encode()
        )
        reply = self.wait_for(
            lambda f: f.get("ActionID") == "login", self.timeout, "the AMI's answer to Login"
        )
        if reply.get("Response") != "Success":
            raise HarnessError(f"AMI login failed: {reply}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(b"Action: Logoff\r\n\r\n")
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _reader(self) -> None:
        assert self._sock is not None
        self._sock.settimeout(0.5)
        buffer = b""
        while not self._closed:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
            # the banner line ("Asterisk Call Manager/x.y") has no blank line after it
            if buffer.startswith(b"Asterisk Call Manager"):
                _, _, buffer = buffer.partition(b"\r\n")
            while b"\r\n\r\n" in buffer:
                raw, buffer = buffer.split(b"\r\n\r\n", 1)
                frame: Frame = {}
                for line in raw.decode("utf-8", errors="replace").split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        # repeated keys (ChanVariable) are joined
                        frame[key] = f"{frame[key]}\n{value}" if key in frame else value
                with self._cond:
                    self.frames.append(frame)
                    self._cond.notify_all()

    def wait_for(
        self,
        predicate: Callable[[Frame], bool],
        timeout: float = 10.0,
        what: str = "a matching AMI frame",
    ) -> Frame:
        """The first frame (already received or coming) that matches."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for frame in self.frames[seen:]:
                    if predicate(frame):
                        return frame
                seen = len(self.frames)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NeverHappenedError(what, timeout, self._last_events())
                self._cond.wait(remaining)

    def wait_for_event(self, name: str, timeout: float = 10.0, **fields: str) -> Frame:
        """The first event `name` (already received or coming) whose fields include
        `fields`, e.g. ``wait_for_event("AgentConnect", Linkedid=linkedid)``."""
        described = " ".join(f"{k}={v}" for k, v in fields.items())
        return self.wait_for(
            lambda f: f.get("Event") == name and all(f.get(k) == v for k, v in fields.items()),
            timeout,
            f"AMI event {name} {described}".rstrip(),
        )

    def _last_events(self) -> str:
        names = [f.get("Event") or f.get("Response") or "?" for f in self.frames[-15:]]
        return f"{len(self.frames)} frame(s), the last: {', '.join(names) or 'none'}"

    def events(self, name: str | None = None) -> list[Frame]:
        with self._cond:
            return [f for f in self.frames if "Event" in f and name in (None, f["Event"])]
