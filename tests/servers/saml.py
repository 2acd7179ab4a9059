"""A SAML 2.0 identity provider for the sso tests: ``tests/servers/saml/idp.py`` (pysaml2)
run by this Python, with a self-signed key from openssl; Debian's xmlsec1 signs.

The IdP must know OCX's SP metadata and OCX the IdP's, so the caller passes OCX's
metadata in and gets the IdP's metadata file back.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.oidc import free_port, running

IDP_SCRIPT = Path(__file__).parent / "saml" / "idp.py"
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class SamlIdp:
    """A running IdP: its entity ID, its metadata file and where it serves."""

    url: str
    entity_id: str
    metadata_file: Path


def ensure_xmlsec() -> str:
    """The xmlsec1 binary, installed from Debian if missing."""
    if not shutil.which("xmlsec1"):
        subprocess.run(["apt-get", "install", "-y", "-q", "xmlsec1"], check=True,
                       stdout=subprocess.DEVNULL)
    found = shutil.which("xmlsec1")
    if found is None:
        raise RuntimeError("xmlsec1 is not installed and apt-get could not install it")
    return found


def _self_signed(workdir: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=ocx-test-idp", "-keyout", str(workdir / "key.pem"),
                    "-out", str(workdir / "cert.pem")], check=True, capture_output=True)


@contextmanager
def saml_idp(sp_metadata: str, workdir: Path) -> Iterator[SamlIdp]:
    """Start the IdP on a free loopback port, trusting ``sp_metadata``; stop it by PID."""
    ensure_xmlsec()
    _self_signed(workdir)
    (workdir / "sp-metadata.xml").write_text(sp_metadata)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, str(IDP_SCRIPT), str(port), str(workdir),
                  str(workdir / "sp-metadata.xml")], f"{url}/health", workdir / "idp.log",
                 "the SAML IdP"):
        yield SamlIdp(url=url, entity_id=f"{url}/idp",
                      metadata_file=workdir / "idp-metadata.xml")
