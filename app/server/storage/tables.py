"""The database schema (SQLAlchemy Core). Alembic migrations under `migrations/` create it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = String(40)
Ms = BigInteger  # milliseconds since the epoch

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("phone", String(200)),
    Column("created_at", Ms, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("personal_of", Id, ForeignKey("users.id")),
    Column("created_at", Ms, nullable=False),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Id, ForeignKey("groups.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("role", String(20), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("name", String(200)),
    Column("scopes", JSON, nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("last_used_at", Ms),  # written at most once a minute per key and process (auth.KeyUse)
)

# SSH public keys members sign in with to `trip ssh` (issue 20): public keys only, one user each.
ssh_keys = Table(
    "ssh_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("fingerprint", String(100), nullable=False, unique=True),  # "SHA256:..." as ssh-keygen -l shows it
    Column("public_key", Text, nullable=False),  # "ssh-ed25519 AAAA...", without the comment
    Column("name", String(200)),  # the key's comment, or a name its owner gave it
    Column("created_at", Ms, nullable=False),
    Column("last_used_at", Ms),
)

# One row: how many times a key was deleted or had its hash, scopes or user changed. Triggers on
# api_keys count them (migration 0002), and NOTIFY on PostgreSQL, so that every server process
# forgets its cached keys at once (live.PollingWaker polls this count on SQLite).
api_key_changes = Table(
    "api_key_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("count", BigInteger, nullable=False),
)

trips = Table(
    "trips",
    metadata,
    Column("id", Id, primary_key=True),
    Column("group_id", Id, ForeignKey("groups.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_by", Id, ForeignKey("users.id"), nullable=False),
    Column("share_token_hash", String(64), unique=True),
    Column("created_at", Ms, nullable=False),
    Column("min_connection_minutes", Integer, nullable=False, server_default="45"),
)

trip_members = Table(
    "trip_members",
    metadata,
    Column("trip_id", Id, ForeignKey("trips.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True, index=True),
    Column("role", String(20), nullable=False),
    Column("created_at", Ms, nullable=False),
)

legs = Table(
    "legs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("trip_id", Id, ForeignKey("trips.id"), nullable=False),
    Column("order", Float, nullable=False),
    Column("title", String(200), nullable=False),
    Column("destination", String(200), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("stays", JSON, nullable=False),
    Column("flights", JSON, nullable=False),
    Column("rental_car", JSON),
    Column("client_ref", String(200)),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("trip_id", "client_ref", name="uq_legs_trip_client_ref"),
    Index("ix_legs_trip_order", "trip_id", "order", "id"),
)

action_items = Table(
    "action_items",
    metadata,
    Column("id", Id, primary_key=True),
    Column("trip_id", Id, ForeignKey("trips.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("urgency", String(20), nullable=False),
    Column("owner", Id),
    Column("done", Boolean, nullable=False),
    Column("client_ref", String(200)),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("trip_id", "client_ref", name="uq_action_items_trip_client_ref"),
    Index("ix_action_items_trip", "trip_id", "created_at", "id"),
)

commitments = Table(
    "commitments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("trip_id", Id, ForeignKey("trips.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("start_time", String(5)),
    Column("end_time", String(5)),
    Column("is_all_day", Boolean, nullable=False),
    Column("timezone", String(64)),
    Column("category", String(20), nullable=False),
    Column("leg_id", Id),
    Column("map_pin_id", Id),
    Column("notes", Text),
    Column("created_at", Ms, nullable=False),
    Index("ix_commitments_trip_start", "trip_id", "start_date", "start_time", "id"),
)

map_pins = Table(
    "map_pins",
    metadata,
    Column("id", Id, primary_key=True),
    Column("trip_id", Id, ForeignKey("trips.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lng", Float, nullable=False),
    Column("category", String(200)),
    Column("notes", Text),
    Column("client_ref", String(200)),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("trip_id", "client_ref", name="uq_map_pins_trip_client_ref"),
    Index("ix_map_pins_trip", "trip_id", "created_at", "id"),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Id, primary_key=True),
    Column("trip_id", Id, ForeignKey("trips.id"), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("trip_id", "name", name="uq_channels_trip_name"),
)

# `seq` orders messages globally; the changes feed uses it as its cursor for messages.
messages = Table(
    "messages",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", Id, nullable=False, unique=True),
    Column("trip_id", Id, ForeignKey("trips.id"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("author_id", Id, ForeignKey("users.id"), nullable=False),
    Column("author_name", String(200), nullable=False),
    Column("content", Text, nullable=False),
    Column("parent_id", Id),
    Column("created_at", Ms, nullable=False),
    Index("ix_messages_channel_seq", "channel_id", "seq"),
    Index("ix_messages_trip_seq", "trip_id", "seq"),
)

# The trip's operation log: one row per revision.
operations = Table(
    "operations",
    metadata,
    Column("trip_id", Id, ForeignKey("trips.id"), primary_key=True),
    Column("result_revision", Integer, primary_key=True),
    Column("op_id", Id, nullable=False),
    Column("operation_type", String(40), nullable=False),
    Column("affected_event_ids", JSON, nullable=False),
    # [{"event_id", "change": added|updated|removed}] for the net diff
    Column("event_changes", JSON, nullable=False),
    Column("created_at", Ms, nullable=False),
    # Who made it, and the rows it changed, for the activity feed and revert (migration 0005);
    # NULL on operations logged before that.
    Column("actor_id", Id),
    Column("actor_key_name", String(200)),  # the API key's name as it was then
    # [{"kind", "id", "change": created|updated|deleted, "label", "before", "after"}]: whole rows
    # (without trip_id) for created and deleted, only the changed columns for updated.
    Column("row_changes", JSON),
    Column("reverts", Id),  # the op_id this operation reverted
    Column("reverted_by", Id),  # the op_id of the revert that undid this one
    Index("ix_operations_trip_op_id", "trip_id", "op_id"),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("api_key_id", Id, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(12), nullable=False),  # in_progress | done
    Column("status_code", Integer),
    Column("response_body", Text),
    Column("created_at", Ms, nullable=False),
    Column("expires_at", Ms, nullable=False, index=True),
)

rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    Column("bucket", String(120), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)
