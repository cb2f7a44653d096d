"""pytest fixtures for tests against the real local Asterisk (see asterisk_harness.py).

Import the fixtures into a test module: `from conftest_asterisk import local_asterisk`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asterisk_harness import AMI_ADDRESS, LocalAsterisk

from tests.support.waits import wait_for_port


@pytest.fixture(scope="session")
def local_asterisk() -> Iterator[LocalAsterisk]:
    """The local Asterisk for the session: started (provisioned if needed), stopped after.

    An Asterisk that was already running (a developer's) is used and left running.
    """
    asterisk = LocalAsterisk()
    was_running = asterisk.is_running()
    asterisk.start()
    wait_for_port(AMI_ADDRESS, 30, "Asterisk's AMI accepting connections")
    try:
        yield asterisk
    finally:
        if not was_running:
            asterisk.stop()
