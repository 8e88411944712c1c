"""The real clock."""

import time


class SystemClock:
    """Clock port backed by `time.sleep`."""

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        time.sleep(seconds)
