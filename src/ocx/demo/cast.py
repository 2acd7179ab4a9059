"""Who and what the demo is made of: organizations, people, projects and offerings.

Plain data, no database: ``ocx.demo.seed`` builds it through the domain services. Every
demo account signs in with :data:`DEMO_PASSWORD` (printed by ``ocx demo seed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

DEMO_PASSWORD = "ocx-demo-password"  # published on purpose: the demo is for looking around
PROVIDER_ORG = "harbor-cloud"
PROVIDER = "harbor"
MARKER = "demo.seed"  # the audit action that says the seed ran to its end


@dataclass(frozen=True)
class Person:
    """A demo account: email, full name, home organization and its role there."""

    email: str
    name: str
    organization: str
    org_role: str = "member"  # member | admin
    pi_of: str | None = None  # the organization this person may lead projects of


@dataclass(frozen=True)
class ProjectPlan:
    """A project, its people by role, and the offerings it asks for."""

    organization: str
    name: str
    description: str
    pi: str
    managers: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    active: tuple[str, ...] = ()  # offerings approved and provisioned
    pending: tuple[str, ...] = ()  # offerings requested, awaiting the provider
    broken: tuple[str, ...] = ()  # offerings whose provisioning fails


@dataclass(frozen=True)
class OfferingPlan:
    """An offering on a fake driver, its components, and its prices (USD)."""

    name: str
    kind: str
    display_name: str
    description: str
    cloud: str
    components: tuple[dict[str, object], ...]
    prices: dict[str, tuple[str, str]] = field(default_factory=dict)  # component -> price, unit
    gpu_type: str | None = None
    down: bool = False  # the fake provider is unreachable: provisioning fails


ORGANIZATIONS = {
    PROVIDER_ORG: ("Harbor Cloud Consortium", "Runs the Harbor research cloud."),
    "bayview": ("Bayview University", "A research university."),
    "riverside": ("Riverside Institute of Technology", "An engineering institute."),
}

OPERATOR = Person("operator@ocx-demo.example.org", "Olivia Operator", "")
PEOPLE = (
    Person("dana.provider@harbor.example.org", "Dana Provider", PROVIDER_ORG, "admin"),
    Person("nora.finance@bayview.example.org", "Nora Finance", "bayview", "admin"),
    Person("priya.patel@bayview.example.org", "Priya Patel", "bayview", pi_of="bayview"),
    Person("alan.ng@bayview.example.org", "Alan Ng", "bayview", pi_of="bayview"),
    Person("marco.rossi@bayview.example.org", "Marco Rossi", "bayview"),
    Person("rui.chen@bayview.example.org", "Rui Chen", "bayview"),
    Person("sam.lee@bayview.example.org", "Sam Lee", "bayview"),
    Person("ken.watanabe@riverside.example.org", "Ken Watanabe", "riverside",
           pi_of="riverside"),
    Person("lena.berg@riverside.example.org", "Lena Berg", "riverside"),
    Person("omar.haddad@riverside.example.org", "Omar Haddad", "riverside"),
)
# The account each role signs in with (the screenshots and the README use these).
ROLE_ACCOUNTS = {
    "operator": OPERATOR.email,
    "provider": "dana.provider@harbor.example.org",
    "pi": "priya.patel@bayview.example.org",
    "researcher": "rui.chen@bayview.example.org",
}
# Asks to join climate-models; its PI has not decided yet.
JOIN_REQUEST = ("sam.lee@bayview.example.org", "bayview:climate-models",
                "I run the lab's HPC jobs and would like to help with the ensemble runs.")

PROJECTS = (
    ProjectPlan("bayview", "genomics-lab", "Sequencing pipelines and variant calling.",
                pi="priya.patel@bayview.example.org",
                managers=("marco.rossi@bayview.example.org",),
                members=("rui.chen@bayview.example.org", "sam.lee@bayview.example.org"),
                active=("compute", "object-store")),
    ProjectPlan("bayview", "climate-models", "Regional climate ensembles.",
                pi="alan.ng@bayview.example.org", members=("rui.chen@bayview.example.org",),
                active=("compute",), broken=("gpu",)),
    ProjectPlan("riverside", "protein-folding", "Molecular dynamics of membrane proteins.",
                pi="ken.watanabe@riverside.example.org",
                managers=("lena.berg@riverside.example.org",),
                members=("omar.haddad@riverside.example.org",),
                active=("compute",), pending=("object-store",)),
)
BUDGET_PROJECT = "bayview:genomics-lab"  # its monthly budget has crossed an alert

_CORES = {"name": "cores", "unit": "core", "max": 512, "default": 16}
_RAM = {"name": "ram_mib", "unit": "MiB", "max": 2_097_152, "default": 65536}
OFFERINGS = (
    OfferingPlan("compute", "openstack", "Harbor Compute",
                 "OpenStack virtual machines, volumes and floating IPs.", "demo-compute",
                 (_CORES, _RAM, {"name": "instances", "unit": "server", "max": 100,
                                 "default": 10},
                  {"name": "storage_gib", "unit": "GiB", "max": 100_000, "default": 2000},
                  {"name": "floating_ips", "unit": "address", "max": 20, "default": 2}),
                 {"cpu_su": ("0.012", "SU-hour"), "storage_gib": ("0.0001", "GiB-hour"),
                  "floating_ips": ("0.004", "hour")}),
    OfferingPlan("object-store", "object_storage", "Harbor Object Storage",
                 "S3-compatible buckets.", "demo-object",
                 ({"name": "storage_gib", "unit": "GiB", "max": 500_000, "default": 5000},),
                 {"object_gib": ("0.00003", "GiB-hour")}),
    OfferingPlan("gpu", "openstack", "Harbor GPU Cloud",
                 "A100 GPU servers (the demo plays this cloud as unreachable).", "demo-gpu",
                 (_CORES, _RAM, {"name": "instances", "unit": "server", "max": 8,
                                 "default": 2}),
                 {"cpu_su": ("0.012", "SU-hour"), "gpu_a100_su": ("1.20", "SU-hour")},
                 gpu_type="a100", down=True),
)
# cpu_su gets cheaper from the second demo month on: the price book shows a history.
CPU_SU_LATER = Decimal("0.011")
