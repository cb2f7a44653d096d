"""Importing a contract file on both cores: a second process checks the file while this one
writes what it has already checked.

`callcenter contracts import` of a large file spends its time in two parts of about equal
size: checking every row (domain/contract_csv) and writing (store/contract_import). Here a
forked process checks the file and sends its contracts on, a chunk at a time, while this
process writes each chunk as it comes, in the caller's transaction. A bad line anywhere
still imports nothing: after the first one the checker sends no more contracts but reads on
to the end, then sends every bad line; `chunks()` raises CsvError, and the caller's
transaction rolls back what was written. A bad header or encoding raises CsvError on
entering, before anything is written. Progress is told in the file's lines: the first line
of the last record of each chunk written, out of `lines`.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from callcenter.domain.contract_csv import CsvError, LineError, decode_csv, read_contracts
from callcenter.domain.contracts import Contract
from callcenter.store.contract_import import CHUNK, Piece, new_contract_document


class CheckerError(RuntimeError):
    """The checking process ended without its answer (killed, or out of memory)."""


class CheckedFile:
    """`with CheckedFile(data, region) as checked:` starts the checker; `checked.chunks()`
    gives the file's contracts as they are checked, `checked.lines` is its number of lines."""

    def __init__(self, data: bytes, region: str) -> None:
        self._data = data
        self._region = region
        self.lines = data.count(b"\n") + (not data.endswith(b"\n"))

    def __enter__(self) -> CheckedFile:
        # Forked, not spawned: the checker has the file and the modules at once, and the
        # caller opens no database connection nor thread before this.
        context = multiprocessing.get_context("fork")
        self._answers, answers = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_check, args=(self._data, self._region, answers), daemon=True
        )
        self._process.start()
        answers.close()  # the checker's end: its exit ends the pipe
        try:
            kind, value = self._receive()
            if kind == "end" and value:  # a bad header or encoding: nothing read
                raise CsvError(value)
            self._first = kind, value
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop()

    def chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[Piece]:
        """The file's contracts, a chunk at a time in the file's order, each with its audit
        document as a new contract; CsvError naming every bad line when there is one (after
        the chunks before it). `progress` is told the line reached once a chunk is written
        (when the next one is asked for)."""
        kind, value = self._first
        reached = 0
        while True:
            if kind == "end":
                if value:
                    raise CsvError(value)
                if progress is not None and reached < self.lines:
                    progress(self.lines)
                return
            reached, piece = value
            yield piece
            if progress is not None:
                progress(reached)
            kind, value = self._receive()

    def _receive(self) -> tuple[str, Any]:
        try:
            answer: tuple[str, Any] = self._answers.recv()
        except (EOFError, OSError):  # OSError: it ended in the middle of a message
            self._process.join(5)
            code = self._process.exitcode
            raise CheckerError(
                f"checking the file stopped without an answer (its process's exit code: {code})"
            ) from None
        return answer

    def _stop(self) -> None:
        self._answers.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _check(data: bytes, region: str, answers: Connection) -> None:
    """The checker: ("contracts", (line, chunk))... while every line is good, then
    ("end", bad lines); or at once ("end", the header's or the encoding's problem)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the importer's to handle
    chunk: list[Contract] = []
    errors: list[LineError] = []
    try:
        for line, record in read_contracts(decode_csv(data), region):
            if isinstance(record, LineError):
                errors.append(record)
            elif not errors:
                chunk.append(record)
                if len(chunk) == CHUNK:
                    answers.send(("contracts", (line, _piece(chunk))))
                    chunk = []
    except CsvError as exc:
        errors = exc.errors
    if chunk and not errors:
        answers.send(("contracts", (line, _piece(chunk))))
    answers.send(("end", errors))


def _piece(chunk: list[Contract]) -> Piece:
    """The chunk, with the audit documents the importer would make if the contracts are new
    (made here: the importer has the database's work to do)."""
    return Piece(chunk, [new_contract_document(c) for c in chunk])
