"""What the `faketime` wrapper leaves behind when a signal stops it (stdlib only).

The wrapper keeps its shared clock in /dev/shm, named by its PID, and removes it only when
its child exits on its own: stopped by a signal, it leaves both behind, and a later wrapper
given the same PID fails at start ("faketime: sem_open: File exists").
"""

from __future__ import annotations

import contextlib
from pathlib import Path

SHARED = Path("/dev/shm")


def remove_leftovers(pid: int) -> None:
    """Remove the shared clock of the (stopped) faketime wrapper that had this PID."""
    for name in (f"faketime_shm_{pid}", f"sem.faketime_sem_{pid}"):
        with contextlib.suppress(FileNotFoundError):
            (SHARED / name).unlink()
