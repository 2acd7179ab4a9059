"""``clouds.yaml`` and ``openrc.sh`` for one application credential.

Both work with the ``openstack`` CLI, openstacksdk and Terraform's OpenStack provider.
Strings are written as JSON strings, which are valid double-quoted YAML scalars, so no
YAML library is needed and no value can break the file.
"""

from __future__ import annotations

import json
import shlex

from pydantic import SecretStr


def credential_files(*, cloud: str, auth_url: str, region: str, credential_id: str,
                     secret: str) -> dict[str, SecretStr]:
    """The two files, keyed by file name."""
    return {"clouds.yaml": SecretStr(_clouds_yaml(cloud, auth_url, region, credential_id,
                                                  secret)),
            "openrc.sh": SecretStr(_openrc(auth_url, region, credential_id, secret))}


def _clouds_yaml(cloud: str, auth_url: str, region: str, credential_id: str,
                 secret: str) -> str:
    q = json.dumps
    return (f"clouds:\n"
            f"  {q(cloud)}:\n"
            f"    auth_type: v3applicationcredential\n"
            f"    auth:\n"
            f"      auth_url: {q(auth_url)}\n"
            f"      application_credential_id: {q(credential_id)}\n"
            f"      application_credential_secret: {q(secret)}\n"
            f"    region_name: {q(region)}\n"
            f"    interface: public\n"
            f"    identity_api_version: 3\n")


def _openrc(auth_url: str, region: str, credential_id: str, secret: str) -> str:
    values = {"OS_AUTH_TYPE": "v3applicationcredential", "OS_AUTH_URL": auth_url,
              "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": region,
              "OS_INTERFACE": "public", "OS_APPLICATION_CREDENTIAL_ID": credential_id,
              "OS_APPLICATION_CREDENTIAL_SECRET": secret}
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    return "# OpenStack credentials issued by OCX: source this file\n" + "\n".join(lines) + "\n"
