"""core: users, roles, settings, audit log, counters, schedules

Revision ID: core_0001
Revises:
Create Date: 2026-11-28 05:11:02.631167
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'core_0001'
down_revision = None
branch_labels = ('core',)
depends_on = None


def upgrade():
    op.create_table('core_counter',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_counter'))
    )
    op.create_table('core_login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_login_throttle'))
    )
    op.create_table('core_permission',
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('plugin', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_core_permission'))
    )
    op.create_table('core_plugin_state',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_core_plugin_state'))
    )
    op.create_table('core_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('all_permissions', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_role')),
    sa.UniqueConstraint('name', name=op.f('uq_core_role_name'))
    )
    op.create_table('core_schedule_run',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('last_run_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_core_schedule_run'))
    )
    op.create_table('core_setting',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('changed_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_setting'))
    )
    op.create_table('core_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('timezone', sa.String(length=60), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_user')),
    sa.UniqueConstraint('username', name=op.f('uq_core_user_username'))
    )
    op.create_table('core_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], name=op.f('fk_core_audit_log_actor_id_core_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_audit_log'))
    )
    with op.batch_alter_table('core_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_core_audit_log_object', ['object_type', 'object_id', 'id'], unique=False)

    op.create_table('core_role_permission',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_role.id'], name=op.f('fk_core_role_permission_role_id_core_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'code', name=op.f('pk_core_role_permission'))
    )
    op.create_table('core_user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_role.id'], name=op.f('fk_core_user_role_role_id_core_role'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_user_role_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role_id', name=op.f('pk_core_user_role'))
    )
    with op.batch_alter_table('core_user_role', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_user_role_role_id'), ['role_id'], unique=False)



def downgrade():
    with op.batch_alter_table('core_user_role', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_user_role_role_id'))

    op.drop_table('core_user_role')
    op.drop_table('core_role_permission')
    with op.batch_alter_table('core_audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_core_audit_log_object')
        batch_op.drop_index(batch_op.f('ix_core_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_core_audit_log_actor_id'))

    op.drop_table('core_audit_log')
    op.drop_table('core_user')
    op.drop_table('core_setting')
    op.drop_table('core_schedule_run')
    op.drop_table('core_role')
    op.drop_table('core_plugin_state')
    op.drop_table('core_permission')
    op.drop_table('core_login_throttle')
    op.drop_table('core_counter')
