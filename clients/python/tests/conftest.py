import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


@pytest.fixture
def server_address() -> str:
    """The address of the server clients/run-tests.sh started; skips (or fails, under the harness) without one."""
    address = os.environ.get("SUPERNETD_ADDR")
    if not address:
        if os.environ.get("SUPERNETD_REQUIRE_SERVER"):
            pytest.fail("SUPERNETD_ADDR is not set")
        pytest.skip("SUPERNETD_ADDR is not set; run clients/run-tests.sh")
    return address
