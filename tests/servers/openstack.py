"""Real OpenStack services for the tests, installed from PyPI and run on loopback.

The services live in their own virtualenv (``.testbed/openstack-venv``: they pin their
own SQLAlchemy and oslo.* libraries), built once and kept between runs while
``tests/servers/openstack/requirements.txt`` does not change. Every process is
started with its own session (``setsid``) and stopped by its PID; every state
directory is temporary. See TESTING.md, "OpenStack".
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import openstack
import pytest
from keystoneauth1 import exceptions as ksa_exceptions
from openstack import exceptions as sdk_exceptions
from openstack.config.loader import OpenStackConfig
from openstack.connection import Connection
from pydantic import SecretStr

from ocx.drivers.project.base import Credentials
from ocx.drivers.project.openstack import OpenStackProject

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(__file__).with_name("openstack")
TESTBED = ROOT / ".testbed"
VENV = TESTBED / "openstack-venv"
REGION = "RegionOne"
T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def openstack_venv() -> Path:
    """The services' virtualenv, (re)built when the pinned requirements change."""
    return cached_venv(VENV, FILES / "requirements.txt")


def osc_venv() -> Path:
    """The ``openstack`` CLI's own virtualenv (``.testbed/osc-venv``), cached the same way."""
    return cached_venv(TESTBED / "osc-venv", FILES / "osc-requirements.txt")


def cached_venv(venv: Path, requirements: Path) -> Path:
    """A virtualenv under ``.testbed`` with ``requirements``, rebuilt when they change."""
    stamp = hashlib.sha256(requirements.read_bytes()).hexdigest()
    TESTBED.mkdir(exist_ok=True)
    # A lock, because pytest-xdist workers may all arrive here at once.
    with open(TESTBED / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = venv / ".ocx-requirements"
        if marker.exists() and marker.read_text() == stamp:
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        log = TESTBED / f"{venv.name}-install.log"
        with open(log, "w") as out:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=out,
                           stderr=subprocess.STDOUT)
            done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                                   "--disable-pip-version-check", "-r", str(requirements)],
                                  stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"installing {requirements.name} into {venv} failed; see {log}")
        marker.write_text(stamp)
    return venv


def render(template: str, target: Path, **values: object) -> Path:
    """Write ``tests/servers/openstack/<template>`` with ``${name}`` values filled in."""
    text = string.Template((FILES / template).read_text()).substitute(
        {k: str(v) for k, v in values.items()})
    target.write_text(text)
    return target


@dataclass
class Processes:
    """Processes started in their own sessions, stopped by PID (process group) at the end."""

    base: Path
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def run(self, name: str, *argv: str | Path, env: dict[str, str] | None = None) -> None:
        """Run an OpenStack command line tool of the venv to completion."""
        with open(self.base / f"{name}.out", "a") as out:
            done = subprocess.run([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT,
                                  env=_env(env), check=False, cwd=self.base)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}):\n" + self.tail(name))

    def start(self, name: str, *argv: str | Path, env: dict[str, str] | None = None) -> None:
        """Start a long-running service in its own session."""
        with open(self.base / f"{name}.out", "a") as out:
            proc = subprocess.Popen([str(a) for a in argv], stdout=out,
                                    stderr=subprocess.STDOUT, env=_env(env),
                                    start_new_session=True, cwd=self.base)
        self.procs.append((name, proc))

    def tail(self, name: str, lines: int = 30) -> str:
        """The end of a process's output, for failure messages (the directory goes away)."""
        path = self.base / f"{name}.out"
        text = path.read_text(errors="replace") if path.exists() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, name: str | None = None) -> None:
        """Stop one service (or all of them, newest first) by PID and wait until gone."""
        chosen = [(n, p) for n, p in self.procs if name in (None, n)]
        for _, proc in reversed(chosen):
            _signal(proc, signal.SIGTERM)
        for entry in chosen:
            try:
                entry[1].wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal(entry[1], signal.SIGKILL)
                entry[1].wait()
            _wait_for_group(entry[1])
            self.procs.remove(entry)


def _signal(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the process's whole session (gunicorn workers, nova's children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def _wait_for_group(proc: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    """Until the children (gunicorn workers...) are gone too, so their files can go."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    _signal(proc, signal.SIGKILL)


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PYTHON"))}
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    return {**env, **(extra or {})}


def wait_http(url: str, procs: Processes, name: str, timeout_s: float = 60.0) -> None:
    """Wait until ``url`` answers below 500, or fail naming the service's log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer at {url} within {timeout_s:.0f} s:\n"
                       + procs.tail(name))


def workers(name: str) -> int:
    """Gunicorn workers for a service: 1, unless ``OCX_OPENSTACK_WORKERS`` (e.g.
    ``nova-api=3,cinder-api=3``) asks for more, as the benchmarks do. Keep Keystone at 1
    where data changes: its memory cache is per process, so other workers read stale."""
    wanted = dict(item.split("=", 1) for item in
                  os.environ.get("OCX_OPENSTACK_WORKERS", "").split(",") if "=" in item)
    return max(1, int(wanted.get(name, "1")))


def gunicorn(procs: Processes, name: str, app: str, port: int, env: dict[str, str]) -> None:
    """Serve a WSGI app through ``wsgi_app.py`` (the argv trick), one worker by default."""
    procs.start(name, VENV / "bin" / "gunicorn", "--workers", str(workers(name)),
                "--bind", f"127.0.0.1:{port}", "--timeout", "120",
                "--pid", procs.base / f"{name}.pid", "--pythonpath", FILES, "wsgi_app:application",
                env={"OCX_WSGI_APP": app, **env})


@dataclass(frozen=True)
class Keystone:
    """A running Keystone: its v3 URL and the bootstrap admin's credentials."""

    url: str
    admin_password: str
    procs: Processes

    def admin(self) -> Connection:
        """An openstacksdk connection as the admin (close it when done)."""
        return openstack.connect(auth=self.admin_auth(), auth_type="password",
                                 region_name=REGION, load_yaml_config=False,
                                 load_envvars=False)

    def admin_auth(self) -> dict[str, str]:
        """openstacksdk ``auth`` for the admin in the admin project."""
        return {"auth_url": self.url, "username": "admin", "password": self.admin_password,
                "project_name": "admin", "user_domain_name": "Default",
                "project_domain_name": "Default"}


def start_keystone(procs: Processes, port: int) -> Keystone:
    """Configure, bootstrap and start Keystone (SQLite, fernet) on ``port``."""
    base = procs.base / "keystone"
    base.mkdir()
    conf = render("keystone.conf", base / "keystone.conf", base=base)
    url, password = f"http://127.0.0.1:{port}/v3", secrets.token_urlsafe(16)
    manage = [VENV / "bin" / "keystone-manage", "--config-file", conf]
    procs.run("keystone-manage", *manage, "db_sync")
    for step in ("fernet_setup", "credential_setup"):
        procs.run("keystone-manage", *manage, step, "--keystone-user", "root",
                  "--keystone-group", "root")
    procs.run("keystone-manage", *manage, "bootstrap",
              # One argument: a random password may start with "-" (argparse would
              # take it for an option).
              f"--bootstrap-password={password}",
              "--bootstrap-region-id", REGION, "--bootstrap-admin-url", url,
              "--bootstrap-internal-url", url, "--bootstrap-public-url", url)
    gunicorn(procs, "keystone", "keystone.wsgi.api:application", port,
             {"OS_KEYSTONE_CONFIG_FILES": str(conf)})
    wait_http(url, procs, "keystone")
    return Keystone(url, password, procs)


@contextlib.contextmanager
def running(prefix: str) -> Iterator[Processes]:
    """A temporary directory and the processes started in it, all gone afterwards."""
    procs = Processes(Path(tempfile.mkdtemp(prefix=prefix)))
    try:
        yield procs
    finally:
        procs.stop()
        shutil.rmtree(procs.base, ignore_errors=True)


@contextlib.contextmanager
def keystone_server() -> Iterator[Keystone]:
    """A Keystone of its own, on a free loopback port."""
    openstack_venv()
    with running("ocx-keystone-") as procs:
        yield start_keystone(procs, free_port())


_SHARED = pytest.StashKey[dict[str, Any]]()


def shared(request: pytest.FixtureRequest, key: str,
           factory: Callable[[], contextlib.AbstractContextManager[T]]) -> T:
    """One server per test session, whichever test module asks first.

    Fixtures imported into several modules would each start their own; this keeps one
    per session (per xdist worker), stopped when the session ends. A server that failed
    to start fails every test that asks for it, with the same reason, without retrying.
    """
    cache = request.config.stash.setdefault(_SHARED, {})
    if key not in cache:
        stack = contextlib.ExitStack()
        request.config.add_cleanup(stack.close)
        try:
            cache[key] = stack.enter_context(factory())
        except Exception as exc:
            cache[key] = exc
    value = cache[key]
    if isinstance(value, Exception):
        raise RuntimeError(f"{key} could not start: {value}") from value
    return cast(T, value)


@pytest.fixture
def keystone(request: pytest.FixtureRequest) -> Keystone:
    """A Keystone shared by the session (identity tests need nothing more)."""
    return shared(request, "keystone", keystone_server)


@pytest.fixture
def keystone_b(request: pytest.FixtureRequest) -> Keystone:
    """A second, independent Keystone: another OpenStack provider on the exchange."""
    return shared(request, "keystone-b", keystone_server)


def project_driver(ks: Keystone, **settings: Any) -> OpenStackProject:
    """OCX's OpenStack driver, signed in as the Keystone's bootstrap admin."""
    return OpenStackProject(OpenStackProject.Settings(
        auth_url=ks.url, username="admin", password=SecretStr(ks.admin_password),
        timeout_s=20, **settings))


def connect_with(credentials: Credentials, directory: Path) -> Connection:
    """Connect as a user would: with the issued ``clouds.yaml`` and nothing else."""
    path = directory / "clouds.yaml"
    path.write_text(credentials.files["clouds.yaml"].get_secret_value())
    config = OpenStackConfig(config_files=[str(path)], vendor_files=[], load_envvars=False)
    (cloud,) = config.get_cloud_names()
    return Connection(config=config.get_one(cloud=cloud))


def credentials_work(credentials: Credentials, directory: Path) -> bool:
    """Whether Keystone accepts the credentials right now."""
    conn = connect_with(credentials, directory)
    try:
        conn.authorize()
        return True
    except (ksa_exceptions.Unauthorized, sdk_exceptions.SDKException):
        return False
    finally:
        conn.close()


# -- the whole cloud: Placement, Glance, Neutron, Nova (fake driver), Cinder (fake) -----

MYSQL = "mysql+pymysql://root@127.0.0.1"
RABBIT = "rabbit://guest:guest@127.0.0.1:5672"
SERVICES = {  # service user -> (service type, URL path after the port)
    "placement": ("placement", ""), "glance": ("image", ""), "neutron": ("network", ""),
    "nova": ("compute", "/v2.1"), "cinder": ("block-storage", "/v3/%(project_id)s")}


@dataclass(frozen=True)
class Cloud:
    """Keystone with Nova, Cinder, Neutron, Glance and Placement behind it."""

    keystone: Keystone
    flavor_id: str
    image_id: str
    external_network_id: str = ""  # "public", where floating IPs come from

    def admin_in(self, project_id: str) -> Connection:
        """The admin, given the admin role on a project and signed in to it, to use
        resources there (close it when done)."""
        admin = self.keystone.admin()
        try:
            admin.identity.assign_project_role_to_user(
                project_id, admin.identity.find_user("admin", ignore_missing=False).id,
                admin.identity.find_role("admin", ignore_missing=False))
        finally:
            admin.close()
        auth = {k: v for k, v in self.keystone.admin_auth().items()
                if not k.startswith("project_")}
        return openstack.connect(auth={**auth, "project_id": project_id},
                                 auth_type="password", region_name=REGION,
                                 load_yaml_config=False, load_envvars=False)


def _service_auth(ks: Keystone, user: str, password: str) -> str:
    return "\n".join([
        "auth_type = password", f"auth_url = {ks.url}", "project_name = service",
        "project_domain_name = Default", "user_domain_name = Default",
        f"username = {user}", f"password = {password}", f"region_name = {REGION}"])


def _conf(ks: Keystone, template: str, base: Path, user: str, password: str,
          **values: object) -> Path:
    auth = _service_auth(ks, user, password)
    return render(template, base / template, base=base, venv=VENV, service_auth=auth,
                  authtoken=f"[keystone_authtoken]\nwww_authenticate_uri = {ks.url}\n{auth}",
                  **values)


def register_services(ks: Keystone, ports: dict[str, int], password: str) -> None:
    """Service users (admin in ``service``) and catalog entries for every service."""
    admin = ks.admin()
    identity = admin.identity
    project = identity.create_project(name="service", domain_id="default")
    roles = [identity.find_role(name, ignore_missing=False) for name in ("admin", "service")]
    for user, (kind, path) in SERVICES.items():
        account = identity.create_user(name=user, domain_id="default", password=password)
        for role in roles:
            identity.assign_project_role_to_user(project, account, role)
        service = identity.create_service(name=user, type=kind)
        for interface in ("public", "internal", "admin"):
            identity.create_endpoint(service_id=service.id, interface=interface,
                                     region_id=REGION,
                                     url=f"http://127.0.0.1:{ports[user]}{path}")
    admin.close()


@contextlib.contextmanager
def mariadb_and_rabbitmq(prefix: str) -> Iterator[tuple[str, str]]:
    """Own databases on the machine's MariaDB and an own RabbitMQ vhost, removed after."""
    names = [f"{prefix}_{n}" for n in ("nova_api", "nova", "nova_cell0", "cinder")]
    _mysql(" ".join(f"CREATE DATABASE {n};" for n in names))
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", prefix], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", prefix, "guest", ".*", ".*",
                    ".*"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"{MYSQL}/{prefix}", f"{RABBIT}/{prefix}"
    finally:
        _mysql(" ".join(f"DROP DATABASE IF EXISTS {n};" for n in names))
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", prefix], check=False,
                       stdout=subprocess.DEVNULL)


def _mysql(sql: str) -> None:
    subprocess.run(["mysql", "-h", "127.0.0.1", "-u", "root", "-e", sql], check=True)


def start_placement_glance(procs: Processes, ks: Keystone, ports: dict[str, int],
                           password: str) -> None:
    """Placement and Glance on SQLite."""
    base = procs.base
    conf = _conf(ks, "placement.conf", base, "placement", password)
    env = {"OS_PLACEMENT_CONFIG_DIR": str(base)}
    procs.run("placement-manage", VENV / "bin" / "placement-manage", "--config-file", conf,
              "db", "sync")
    gunicorn(procs, "placement", "placement.wsgi.api:application", ports["placement"], env)
    conf = _conf(ks, "glance-api.conf", base, "glance", password, port=ports["glance"])
    shutil.copy(VENV / "etc" / "glance" / "glance-api-paste.ini", base)
    procs.run("glance-manage", VENV / "bin" / "glance-manage", "--config-file", conf,
              "db_sync")
    gunicorn(procs, "glance", "glance.wsgi.api:application", ports["glance"],
             {"OS_GLANCE_CONFIG_DIR": str(base)})


def start_neutron(procs: Processes, ks: Keystone, port: int, password: str,
                  transport: str) -> None:
    """Neutron's API (ML2 without mechanism drivers): schema by create_all + stamp."""
    conf = _conf(ks, "neutron.conf", procs.base, "neutron", password, transport_url=transport)
    url = f"sqlite:///{procs.base}/neutron.db"
    procs.run("neutron-schema", VENV / "bin" / "python", "-c",
              "import sys, sqlalchemy; from neutron.db.migration.models import head; "
              "head.get_metadata().create_all(sqlalchemy.create_engine(sys.argv[1]))", url)
    procs.run("neutron-db-manage", VENV / "bin" / "neutron-db-manage", "--config-file", conf,
              "stamp", "heads")
    gunicorn(procs, "neutron", "neutron.wsgi.api:application", port,
             {"OS_NEUTRON_CONFIG_DIR": str(procs.base), "OS_NEUTRON_CONFIG_FILES":
              "neutron.conf"})


def start_nova(procs: Processes, ks: Keystone, port: int, password: str, database: str,
               transport: str) -> None:
    """Nova with the fake virt driver: conductor, scheduler, compute, then the API."""
    conf = _conf(ks, "nova.conf", procs.base, "nova", password, database=database,
                 transport_url=transport)
    shutil.copy(VENV / "etc" / "nova" / "api-paste.ini", procs.base)
    manage = [VENV / "bin" / "nova-manage", "--config-file", conf]
    procs.run("nova-manage", *manage, "api_db", "sync")
    procs.run("nova-manage", *manage, "cell_v2", "map_cell0", "--database_connection",
              f"{database}_nova_cell0")
    procs.run("nova-manage", *manage, "cell_v2", "create_cell", "--name", "cell1")
    procs.run("nova-manage", *manage, "db", "sync")
    for service in ("conductor", "scheduler", "compute"):
        procs.start(f"nova-{service}", VENV / "bin" / f"nova-{service}", "--config-file", conf)
    gunicorn(procs, "nova-api", "nova.wsgi.osapi_compute:application", port,
             {"OS_NOVA_CONFIG_DIR": str(procs.base)})


def start_cinder(procs: Processes, ks: Keystone, port: int, password: str, database: str,
                 transport: str) -> None:
    """Cinder with the fake volume driver: scheduler, volume, then the API."""
    conf = _conf(ks, "cinder.conf", procs.base, "cinder", password, database=database,
                 transport_url=transport)
    procs.run("cinder-manage", VENV / "bin" / "cinder-manage", "--config-file", conf, "db",
              "sync")
    for service in ("scheduler", "volume"):
        procs.start(f"cinder-{service}", VENV / "bin" / f"cinder-{service}", "--config-file",
                    conf)
    gunicorn(procs, "cinder-api", "cinder.wsgi.api:application", port,
             {"OCX_WSGI_ARGS": f"--config-file {conf}"})


def _wait_for_compute(conn: Connection, procs: Processes, conf: Path) -> None:
    """Until nova-compute has registered and its host is mapped to the cell."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(s.state == "up" for s in conn.compute.services(binary="nova-compute")):
            procs.run("nova-manage", VENV / "bin" / "nova-manage", "--config-file", conf,
                      "cell_v2", "discover_hosts")
            if list(conn.compute.hypervisors()):
                return
        time.sleep(0.5)
    raise RuntimeError("nova-compute did not register:\n" + procs.tail("nova-compute"))


def _seed(ks: Keystone, procs: Processes) -> Cloud:
    """A flavor and an image that members boot from; a public network for floating IPs."""
    conn = ks.admin()
    try:
        _wait_for_compute(conn, procs, procs.base / "nova.conf")
        flavor = conn.compute.create_flavor(name="ocx.tiny", vcpus=1, ram=64, disk=1)
        image = conn.image.create_image(name="ocx-test-image", disk_format="raw",
                                        container_format="bare", data=b"\0" * 512,
                                        visibility="public")
        public = conn.network.create_network(
            name="public", is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network="public")
        conn.network.create_subnet(network_id=public.id, ip_version=4,
                                   cidr="203.0.113.0/24", enable_dhcp=False)
        return Cloud(ks, str(flavor.id), str(image.id), str(public.id))
    finally:
        conn.close()


@contextlib.contextmanager
def cloud_server() -> Iterator[Cloud]:
    """The whole cloud on free loopback ports, with its own databases and vhost."""
    openstack_venv()
    prefix = f"ocx_{secrets.token_hex(4)}"
    with running("ocx-openstack-") as procs, mariadb_and_rabbitmq(prefix) as (db, mq):
        ks = start_keystone(procs, free_port())
        ports, password = {name: free_port() for name in SERVICES}, secrets.token_urlsafe(12)
        register_services(ks, ports, password)
        start_placement_glance(procs, ks, ports, password)
        start_neutron(procs, ks, ports["neutron"], password, mq)
        start_nova(procs, ks, ports["nova"], password, db, mq)
        start_cinder(procs, ks, ports["cinder"], password, db, mq)
        for name in SERVICES:
            wait_http(f"http://127.0.0.1:{ports[name]}/", procs,
                      {"nova": "nova-api", "cinder": "cinder-api"}.get(name, name))
        yield _seed(ks, procs)


@pytest.fixture
def openstack_cloud(request: pytest.FixtureRequest) -> Cloud:
    """The whole cloud, shared by the session (45-90 s to start)."""
    return shared(request, "openstack-cloud", cloud_server)
