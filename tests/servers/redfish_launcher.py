"""Start sushy-tools' Redfish emulator with its fake systems driver and no power delay.

The fake driver applies every power change after a random 1-11 s (``random.randint``);
a real BMC is not that slow for the tests' purpose, so this launcher gives the driver
a ``random`` whose ``randint`` is always 0 and then runs the emulator's own ``main``.
Usage: ``python redfish_launcher.py --config FILE --interface IP --port PORT``.
"""

from __future__ import annotations

import sys

from sushy_tools.emulator import main as emulator
from sushy_tools.emulator.resources.systems import fakedriver


class NoDelay:
    """Stands in for the ``random`` module inside the fake driver."""

    @staticmethod
    def randint(low: int, high: int) -> int:
        return 0


fakedriver.random = NoDelay()  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(emulator.main())
