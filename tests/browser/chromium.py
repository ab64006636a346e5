"""Which chromium the browser tests and the benchmark launch, and with which switches.

Playwright's own browser download cannot work on a closed network: both launch the
system chromium (Debian's), or the one LMS_TEST_CHROMIUM names.
"""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("LMS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox, no GPU, and none of the browser's own traffic (updates, sync, QUIC) beside
# the pages'.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
