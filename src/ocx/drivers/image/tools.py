"""Running the storage command-line tools (qemu-img, rbd) and reading what they say."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocx.errors import DriverError, PermanentDriverError

# Names a backend is given become file and RBD image names: no path, no option, no "@".
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
UPLOADED_FORMATS = ("raw", "qcow2")


def check_name(name: str, *, partial: bool = False) -> str:
    """``name`` if it is safe as a file or RBD image name (``.part`` ones: if ``partial``).

    Raises:
        PermanentDriverError: it is not.
    """
    if not NAME.fullmatch(name) or (name.endswith(".part") and not partial):
        raise PermanentDriverError(f"invalid image name {name!r} for a backend")
    return name


def run(command: Sequence[str], timeout_s: float) -> str:
    """``command``'s standard output.

    Raises:
        DriverError: it failed or timed out (its message has the tool's own reason).
        PermanentDriverError: the tool is not installed.
    """
    try:
        done = subprocess.run(list(command), capture_output=True, text=True,  # noqa: S603
                              timeout=timeout_s, check=False)
    except FileNotFoundError as exc:
        raise PermanentDriverError(f"{command[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise DriverError(f"{command[0]} {command[1]} timed out after {timeout_s:g} s") from exc
    if done.returncode != 0:
        reason = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise DriverError(f"{command[0]} {command[1]} failed: "
                          f"{reason[-1] if reason else f'exit status {done.returncode}'}")
    return done.stdout


def run_json(command: Sequence[str], timeout_s: float) -> Any:
    """``command``'s standard output, parsed as JSON (see :func:`run` for raises)."""
    return json.loads(run(command, timeout_s) or "null")


@dataclass(frozen=True)
class ImageFile:
    """What ``qemu-img info`` says about a file."""

    format: str
    virtual_size: int
    actual_size: int
    backing_file: str | None


def inspect(qemu_img: str, path: Path, timeout_s: float) -> ImageFile:
    """``qemu-img info`` of ``path``, read even while an exporter holds it open.

    Raises:
        PermanentDriverError: ``path`` does not exist.
        DriverError: qemu-img failed.
    """
    if not path.exists():
        raise PermanentDriverError(f"image file {path.name} does not exist")
    info = run_json([qemu_img, "info", "-U", "--output", "json", str(path)], timeout_s)
    return ImageFile(format=info["format"], virtual_size=int(info["virtual-size"]),
                     actual_size=int(info.get("actual-size", 0)),
                     backing_file=info.get("backing-filename"))


def inspect_upload(qemu_img: str, path: Path, timeout_s: float) -> ImageFile:
    """What ``path`` holds, if it is an image OCX accepts: raw or qcow2 without a backing
    file (one would make qemu-img read any file on the host into the image).

    Raises:
        PermanentDriverError: another format, or a backing file.
        DriverError: qemu-img failed.
    """
    found = inspect(qemu_img, path, timeout_s)
    if found.format not in UPLOADED_FORMATS:
        raise PermanentDriverError(f"unsupported image format {found.format}; "
                                   f"upload {' or '.join(UPLOADED_FORMATS)}")
    if found.backing_file is not None:
        raise PermanentDriverError("a qcow2 image with a backing file is refused; "
                                   "upload a standalone image (qemu-img convert)")
    return found
