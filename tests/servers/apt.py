"""Installing a test server's Debian packages when they are missing (root only)."""

from __future__ import annotations

import os
import subprocess


def apt_install(what: str, packages: list[str] | tuple[str, ...]) -> None:
    """``apt-get install`` ``packages`` for ``what`` (a server's name, for the errors).

    Raises:
        RuntimeError: not root, or apt-get failed (the message says why).
    """
    if os.geteuid() != 0:
        raise RuntimeError(f"{what} is not installed and installing it needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 and command[1] == "install":
            raise RuntimeError(f"apt-get could not install {' '.join(packages)}: "
                               f"{done.stderr.strip()[-1000:]}")
