"""Ready-to-use S3 client files for one RGW key pair: aws CLI, rclone, boto3, env.

``aws-credentials`` and ``aws-config`` are the aws CLI's two files (point
``AWS_SHARED_CREDENTIALS_FILE`` and ``AWS_CONFIG_FILE`` at them, or merge them into
``~/.aws/``); the config names the endpoint (``endpoint_url``, aws CLI 1.29+/2.13+) and
path-style addressing, which RGW without wildcard DNS needs. ``rclone.conf`` has one
``[profile]`` remote, ``s3.env`` the standard ``AWS_*`` variables, and ``s3_client.py``
a boto3 client to copy. ``swift.env`` has the same member's Swift key for radosgw's Swift
API (v1 auth at ``/auth/1.0``), in the ``ST_*`` variables python-swiftclient reads.
"""

from __future__ import annotations

import shlex

from pydantic import SecretStr


def credential_files(*, profile: str, endpoint: str, region: str, access_key: str,
                     secret_key: str, swift_user: str, swift_key: str) -> dict[str, SecretStr]:
    """The files, keyed by file name."""
    files = {
        "aws-credentials": (f"[{profile}]\n"
                            f"aws_access_key_id = {access_key}\n"
                            f"aws_secret_access_key = {secret_key}\n"),
        "aws-config": (f"[profile {profile}]\n"
                       f"region = {region}\n"
                       f"endpoint_url = {endpoint}\n"
                       f"s3 =\n"
                       f"    addressing_style = path\n"),
        "rclone.conf": (f"[{profile}]\n"
                        f"type = s3\n"
                        f"provider = Ceph\n"
                        f"access_key_id = {access_key}\n"
                        f"secret_access_key = {secret_key}\n"
                        f"endpoint = {endpoint}\n"
                        f"region = {region}\n"
                        f"force_path_style = true\n"),
        "swift.env": ("# Swift credentials issued by OCX: source this file, then `swift list`\n"
                      + "".join(f"export {name}={shlex.quote(value)}\n" for name, value in {
                          "ST_AUTH": f"{endpoint.rstrip('/')}/auth/1.0",
                          "ST_USER": swift_user, "ST_KEY": swift_key}.items())),
        "s3.env": ("# S3 credentials issued by OCX: source this file\n"
                   + "".join(f"export {name}={shlex.quote(value)}\n" for name, value in {
                       "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key,
                       "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": endpoint}.items())),
        "s3_client.py": ('"""An S3 client on OCX object storage (pip install boto3)."""\n'
                         "import boto3\n"
                         "from botocore.config import Config\n\n"
                         "s3 = boto3.client(\n"
                         '    "s3",\n'
                         f"    endpoint_url={endpoint!r},\n"
                         f"    region_name={region!r},\n"
                         f"    aws_access_key_id={access_key!r},\n"
                         f"    aws_secret_access_key={secret_key!r},\n"
                         '    config=Config(s3={"addressing_style": "path"}),\n'
                         ")\n\n"
                         'if __name__ == "__main__":\n'
                         '    for bucket in s3.list_buckets()["Buckets"]:\n'
                         '        print(bucket["Name"])\n'),
    }
    return {name: SecretStr(text) for name, text in files.items()}
