"""The OpenStack project driver's pure parts: files, error mapping, settings, components."""

from __future__ import annotations

import shlex

import pytest
import requests
import yaml
from keystoneauth1 import exceptions as ksa
from openstack import exceptions as sdk

from ocx.drivers.project.openstack import OpenStackProject
from ocx.drivers.project.openstack_errors import translated
from ocx.drivers.project.openstack_files import credential_files
from ocx.drivers.project.openstack_quota import COMPONENTS, write
from ocx.errors import DriverError, PermanentDriverError

URL = "https://keystone.example.org:5000/v3"


def _files() -> dict[str, str]:
    files = credential_files(cloud="ocx-acme: \"demo\"", auth_url=URL, region="RegionOne",
                             credential_id="c1d2", secret="s3cr'et$`x")
    return {name: text.get_secret_value() for name, text in files.items()}


def test_clouds_yaml_is_an_application_credential_entry_named_after_the_project() -> None:
    (name, cloud), = yaml.safe_load(_files()["clouds.yaml"])["clouds"].items()
    assert name == "ocx-acme: \"demo\""
    assert cloud == {"auth_type": "v3applicationcredential", "auth": {
        "auth_url": URL, "application_credential_id": "c1d2",
        "application_credential_secret": "s3cr'et$`x"}, "region_name": "RegionOne",
        "interface": "public", "identity_api_version": 3}


def test_openrc_quotes_every_value_for_the_shell() -> None:
    exports = dict(line.removeprefix("export ").split("=", 1)
                   for line in _files()["openrc.sh"].splitlines() if line.startswith("export"))
    assert shlex.split(exports["OS_APPLICATION_CREDENTIAL_SECRET"]) == ["s3cr'et$`x"]
    assert exports["OS_AUTH_TYPE"] == "v3applicationcredential"


def _response(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code, response.url = status, f"{URL}/projects"
    return response


@pytest.mark.parametrize(("error", "permanent"), [
    (ksa.ConnectFailure("Unable to establish connection"), False),
    (ksa.ConnectTimeout("timed out"), False),
    (ksa.SSLError("certificate verify failed"), True),
    (ksa.Unauthorized("The request you have made requires authentication."), True),
    (ksa.EndpointNotFound("compute"), True),
    (ksa.http.ServiceUnavailable("busy"), False),
    (sdk.HttpException("boom", response=_response(503)), False),
    (sdk.HttpException("slow down", response=_response(429)), False),
    (sdk.BadRequestException("bad quota", response=_response(400)), True),
    (sdk.ForbiddenException("policy", response=_response(403)), True),
    (sdk.SDKException("odd"), False),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v))
def test_errors_are_temporary_or_permanent_and_name_the_endpoint(error: Exception,
                                                                 permanent: bool) -> None:
    with pytest.raises(DriverError) as caught, translated(URL, "list projects"):
        raise error
    assert isinstance(caught.value, PermanentDriverError) is permanent
    assert f"OpenStack at {URL}" in caught.value.message


def test_settings_keep_the_password_secret_and_refuse_typos() -> None:
    settings = OpenStackProject.Settings(auth_url=URL, username="ocx", password="hunter2")
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()
    with pytest.raises(ValueError, match="user_domian"):
        OpenStackProject.Settings.model_validate({"auth_url": URL, "username": "ocx",
                                                  "password": "x", "user_domian": "Default"})


def test_the_driver_maps_nova_cinder_and_neutron_components() -> None:
    assert OpenStackProject.components == frozenset(COMPONENTS)
    assert {"cores", "ram_mib", "instances", "volumes", "storage_gib", "snapshots",
            "floating_ips", "networks", "ports", "routers", "security_groups"} == set(COMPONENTS)


def test_an_unknown_component_is_refused_before_any_call() -> None:
    with pytest.raises(PermanentDriverError, match="gpus"):
        write(None, "p1", {"gpus": 2})  # type: ignore[arg-type]
