"""The demo of ``make run``: a small exchange with people, money and history in it.

``seed(runtime)`` builds it through the domain services (see ``ocx.demo.seed``); the
cast is in ``ocx.demo.cast``. Development and test environments only.
"""

from ocx.demo.cast import DEMO_PASSWORD, ROLE_ACCOUNTS
from ocx.demo.seed import SeedResult, seed

__all__ = ["DEMO_PASSWORD", "ROLE_ACCOUNTS", "SeedResult", "seed"]
