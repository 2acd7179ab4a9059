"""bare metal: sites, switches, nodes, networks, offers and leases; metering's usage spans

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:40:00.000000

On PostgreSQL, leases of one node cannot overlap in time while they hold the node
(created, active, ending): an exclusion constraint over ``tstzrange(starts_at,
ends_at)``, which needs the ``btree_gist`` extension (a trusted extension since
PostgreSQL 13: the database owner may create it). SQLite has no such constraint;
there writers are serialized, and the service checks before it inserts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocx.persistence.base

revision: str = '0004'
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEASE_EXCLUSION = (
    "ALTER TABLE bm_leases ADD CONSTRAINT ex_bm_leases_node_window "
    "EXCLUDE USING gist (node_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
    "WHERE (state IN ('created', 'active', 'ending'))")


def upgrade() -> None:
    op.create_table('bm_sites',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('vlan_min', sa.Integer(), nullable=False),
    sa.Column('vlan_max', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('vlan_min >= 1 AND vlan_max <= 4094 AND vlan_min <= vlan_max', name=op.f('ck_bm_sites_vlan_pool')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_sites')),
    sa.UniqueConstraint('name', name=op.f('uq_bm_sites_name'))
    )
    with op.batch_alter_table('bm_sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_sites_created_at'), ['created_at'], unique=False)

    op.create_table('bm_switches',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('owner_org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('driver', sa.String(length=63), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organizations.id'], name=op.f('fk_bm_switches_owner_org_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['site_id'], ['bm_sites.id'], name=op.f('fk_bm_switches_site_id_bm_sites'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_switches')),
    sa.UniqueConstraint('site_id', 'name', name=op.f('uq_bm_switches_site_id_name'))
    )
    with op.batch_alter_table('bm_switches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_switches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_switches_owner_org_id'), ['owner_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_switches_site_id'), ['site_id'], unique=False)

    op.create_table('bm_networks',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('vlan', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_bm_networks_project_id_projects'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['site_id'], ['bm_sites.id'], name=op.f('fk_bm_networks_site_id_bm_sites'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_networks')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_bm_networks_project_id_name')),
    sa.UniqueConstraint('site_id', 'vlan', name=op.f('uq_bm_networks_site_id_vlan'))
    )
    with op.batch_alter_table('bm_networks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_networks_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_networks_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_networks_site_id'), ['site_id'], unique=False)

    op.create_table('bm_nodes',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('owner_org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('resource_class', sa.String(length=63), nullable=False),
    sa.Column('power_driver', sa.String(length=63), nullable=False),
    sa.Column('power_settings', sa.JSON(), nullable=False),
    sa.Column('power_state', sa.String(length=16), nullable=True),
    sa.Column('boot_device', sa.String(length=16), nullable=True),
    sa.Column('power_checked_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('power_error', sa.Text(), nullable=True),
    sa.Column('locked_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['locked_by'], ['operations.id'], name=op.f('fk_bm_nodes_locked_by_operations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organizations.id'], name=op.f('fk_bm_nodes_owner_org_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['site_id'], ['bm_sites.id'], name=op.f('fk_bm_nodes_site_id_bm_sites'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_nodes')),
    sa.UniqueConstraint('name', name=op.f('uq_bm_nodes_name'))
    )
    with op.batch_alter_table('bm_nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_nodes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_nodes_owner_org_id'), ['owner_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_nodes_resource_class'), ['resource_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_nodes_site_id'), ['site_id'], unique=False)

    op.create_table('bm_switch_ports',
    sa.Column('switch_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['switch_id'], ['bm_switches.id'], name=op.f('fk_bm_switch_ports_switch_id_bm_switches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_switch_ports')),
    sa.UniqueConstraint('switch_id', 'name', name=op.f('uq_bm_switch_ports_switch_id_name'))
    )
    with op.batch_alter_table('bm_switch_ports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_switch_ports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_switch_ports_switch_id'), ['switch_id'], unique=False)

    op.create_table('usage_spans',
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('allocation_id', sa.Uuid(), nullable=True),
    sa.Column('resource_kind', sa.String(length=63), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('meter', sa.String(length=63), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=24, scale=6), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('started_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_event_id', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ended_at >= started_at', name=op.f('ck_usage_spans_span')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_usage_spans_project_id_projects'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_spans')),
    sa.UniqueConstraint('source_event_id', name=op.f('uq_usage_spans_source_event_id'))
    )
    with op.batch_alter_table('usage_spans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_spans_allocation_id'), ['allocation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_spans_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_spans_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_spans_resource_id'), ['resource_id'], unique=False)

    op.create_table('bm_nics',
    sa.Column('node_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('mac', sa.String(length=17), nullable=False),
    sa.Column('port_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['bm_nodes.id'], name=op.f('fk_bm_nics_node_id_bm_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['port_id'], ['bm_switch_ports.id'], name=op.f('fk_bm_nics_port_id_bm_switch_ports'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_nics')),
    sa.UniqueConstraint('mac', name=op.f('uq_bm_nics_mac')),
    sa.UniqueConstraint('node_id', 'name', name=op.f('uq_bm_nics_node_id_name')),
    sa.UniqueConstraint('port_id', name=op.f('uq_bm_nics_port_id'))
    )
    with op.batch_alter_table('bm_nics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_nics_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_nics_node_id'), ['node_id'], unique=False)

    op.create_table('bm_offers',
    sa.Column('owner_org_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('node_id', sa.Uuid(), nullable=True),
    sa.Column('resource_class', sa.String(length=63), nullable=True),
    sa.Column('project_id', sa.Uuid(), nullable=True),
    sa.Column('starts_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('available', 'withdrawn', name='bm_offer_state', native_enum=False, length=16), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(node_id IS NULL) <> (resource_class IS NULL)', name=op.f('ck_bm_offers_node_or_class')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bm_offers_window')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_bm_offers_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['node_id'], ['bm_nodes.id'], name=op.f('fk_bm_offers_node_id_bm_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organizations.id'], name=op.f('fk_bm_offers_owner_org_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_bm_offers_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['bm_sites.id'], name=op.f('fk_bm_offers_site_id_bm_sites'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_offers'))
    )
    with op.batch_alter_table('bm_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_offers_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_offers_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_offers_owner_org_id'), ['owner_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_offers_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_offers_site_id'), ['site_id'], unique=False)

    op.create_table('bm_port_changes',
    sa.Column('switch_id', sa.Uuid(), nullable=False),
    sa.Column('port_id', sa.Uuid(), nullable=False),
    sa.Column('operation_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'applying', 'done', 'failed', name='bm_port_change_state', native_enum=False, length=16), nullable=False),
    sa.Column('claimed_by', sa.Uuid(), nullable=True),
    sa.Column('claimed_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_bm_port_changes_operation_id_operations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['port_id'], ['bm_switch_ports.id'], name=op.f('fk_bm_port_changes_port_id_bm_switch_ports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['switch_id'], ['bm_switches.id'], name=op.f('fk_bm_port_changes_switch_id_bm_switches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_port_changes'))
    )
    with op.batch_alter_table('bm_port_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_port_changes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_port_changes_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_port_changes_port_id'), ['port_id'], unique=False)
        batch_op.create_index('ix_bm_port_changes_switch_state', ['switch_id', 'state'], unique=False)

    op.create_table('bm_leases',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('node_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('created', 'active', 'ending', 'expired', 'cancelled', name='bm_lease_state', native_enum=False, length=16), nullable=False),
    sa.Column('started_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bm_leases_window')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_bm_leases_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['node_id'], ['bm_nodes.id'], name=op.f('fk_bm_leases_node_id_bm_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['offer_id'], ['bm_offers.id'], name=op.f('fk_bm_leases_offer_id_bm_offers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_bm_leases_project_id_projects'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_leases'))
    )
    with op.batch_alter_table('bm_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_leases_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_leases_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_leases_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_leases_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_bm_leases_state_ends_at', ['state', 'ends_at'], unique=False)
        batch_op.create_index('ix_bm_leases_state_starts_at', ['state', 'starts_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(LEASE_EXCLUSION)

    op.create_table('bm_network_attachments',
    sa.Column('nic_id', sa.Uuid(), nullable=False),
    sa.Column('network_id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.Enum('access', 'tagged', name='bm_attachment_mode', native_enum=False, length=16), nullable=False),
    sa.Column('state', sa.Enum('attaching', 'attached', 'detaching', name='bm_attachment_state', native_enum=False, length=16), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocx.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['bm_networks.id'], name=op.f('fk_bm_network_attachments_network_id_bm_networks'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['nic_id'], ['bm_nics.id'], name=op.f('fk_bm_network_attachments_nic_id_bm_nics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bm_network_attachments')),
    sa.UniqueConstraint('nic_id', 'network_id', name=op.f('uq_bm_network_attachments_nic_id_network_id'))
    )
    with op.batch_alter_table('bm_network_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bm_network_attachments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_network_attachments_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bm_network_attachments_nic_id'), ['nic_id'], unique=False)
        batch_op.create_index('uq_bm_network_attachments_access', ['nic_id'], unique=True, sqlite_where=sa.text("mode = 'access'"), postgresql_where=sa.text("mode = 'access'"))


def downgrade() -> None:
    with op.batch_alter_table('bm_network_attachments', schema=None) as batch_op:
        batch_op.drop_index('uq_bm_network_attachments_access', sqlite_where=sa.text("mode = 'access'"), postgresql_where=sa.text("mode = 'access'"))
        batch_op.drop_index(batch_op.f('ix_bm_network_attachments_nic_id'))
        batch_op.drop_index(batch_op.f('ix_bm_network_attachments_network_id'))
        batch_op.drop_index(batch_op.f('ix_bm_network_attachments_created_at'))

    op.drop_table('bm_network_attachments')
    with op.batch_alter_table('bm_leases', schema=None) as batch_op:
        batch_op.drop_index('ix_bm_leases_state_starts_at')
        batch_op.drop_index('ix_bm_leases_state_ends_at')
        batch_op.drop_index(batch_op.f('ix_bm_leases_project_id'))
        batch_op.drop_index(batch_op.f('ix_bm_leases_offer_id'))
        batch_op.drop_index(batch_op.f('ix_bm_leases_node_id'))
        batch_op.drop_index(batch_op.f('ix_bm_leases_created_at'))

    op.drop_table('bm_leases')
    with op.batch_alter_table('bm_port_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_bm_port_changes_switch_state')
        batch_op.drop_index(batch_op.f('ix_bm_port_changes_port_id'))
        batch_op.drop_index(batch_op.f('ix_bm_port_changes_operation_id'))
        batch_op.drop_index(batch_op.f('ix_bm_port_changes_created_at'))

    op.drop_table('bm_port_changes')
    with op.batch_alter_table('bm_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_offers_site_id'))
        batch_op.drop_index(batch_op.f('ix_bm_offers_project_id'))
        batch_op.drop_index(batch_op.f('ix_bm_offers_owner_org_id'))
        batch_op.drop_index(batch_op.f('ix_bm_offers_node_id'))
        batch_op.drop_index(batch_op.f('ix_bm_offers_created_at'))

    op.drop_table('bm_offers')
    with op.batch_alter_table('bm_nics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_nics_node_id'))
        batch_op.drop_index(batch_op.f('ix_bm_nics_created_at'))

    op.drop_table('bm_nics')
    with op.batch_alter_table('usage_spans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_spans_resource_id'))
        batch_op.drop_index(batch_op.f('ix_usage_spans_project_id'))
        batch_op.drop_index(batch_op.f('ix_usage_spans_created_at'))
        batch_op.drop_index(batch_op.f('ix_usage_spans_allocation_id'))

    op.drop_table('usage_spans')
    with op.batch_alter_table('bm_switch_ports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_switch_ports_switch_id'))
        batch_op.drop_index(batch_op.f('ix_bm_switch_ports_created_at'))

    op.drop_table('bm_switch_ports')
    with op.batch_alter_table('bm_nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_nodes_site_id'))
        batch_op.drop_index(batch_op.f('ix_bm_nodes_resource_class'))
        batch_op.drop_index(batch_op.f('ix_bm_nodes_owner_org_id'))
        batch_op.drop_index(batch_op.f('ix_bm_nodes_created_at'))

    op.drop_table('bm_nodes')
    with op.batch_alter_table('bm_networks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_networks_site_id'))
        batch_op.drop_index(batch_op.f('ix_bm_networks_project_id'))
        batch_op.drop_index(batch_op.f('ix_bm_networks_created_at'))

    op.drop_table('bm_networks')
    with op.batch_alter_table('bm_switches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_switches_site_id'))
        batch_op.drop_index(batch_op.f('ix_bm_switches_owner_org_id'))
        batch_op.drop_index(batch_op.f('ix_bm_switches_created_at'))

    op.drop_table('bm_switches')
    with op.batch_alter_table('bm_sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bm_sites_created_at'))

    op.drop_table('bm_sites')
