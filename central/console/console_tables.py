"""The operators' console's tables: accounts, sessions, the audit of what operators did, and the
secret that signs session cookies (shared by every API worker, so any worker checks any cookie).

Created by ``ensure_schema`` (central/tables.py imports this module), like the KPI rollups.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, Table, Text, UniqueConstraint

from central.tables import _ROW_ID, metadata

console_users = Table(
    "console_users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id, with its parameters and salt
    Column("role", Text, nullable=False),  # viewer, operator, admin
    Column("failures", Integer, nullable=False, server_default="0"),  # since the last success
    Column("locked_until", Text),  # ISO UTC; repeated failures lock the account for a while
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", Text, primary_key=True),  # sha256 of the cookie's random id
    Column("user_name", Text, nullable=False),
    Column("csrf", Text, nullable=False),  # the forms' token for this session
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Index("console_sessions_user", "user_name"),
)

console_audit = Table(
    "console_audit",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("at", Text, nullable=False),
    Column("user_name", Text, nullable=False),  # who ('-' for nobody: a failed login's name)
    Column("action", Text, nullable=False),  # login, login_failed, logout, user_add, ...
    Column("target", Text),  # what it was done to: a kiosk, a case, a bundle
    Column("detail", Text),  # a few words; never a password, never personal data
)

console_secrets = Table(
    "console_secrets",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("version", BigInteger, nullable=False, server_default="1"),
)

# 差评 cases (central/cases.py): one per 不满意 or 非常不满意 rating, opened when the KPI
# roll-up counts it, worked through open -> in_progress -> resolved -> followed_up (回访).
bad_cases = Table(
    "bad_cases",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("kiosk_id", Text, nullable=False),
    Column("uuid", Text, nullable=False),  # the rating's transaction
    Column("grp", Text, nullable=False),
    Column("service", Text, nullable=False),  # the service rated, '' if none named
    Column("score", Integer, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of the reason codes picked
    Column("visit_id", Text),  # the anonymous visit, to find its other records
    Column("rated_at", Text, nullable=False),  # the terminal's time of the rating
    Column("opened_at", Text, nullable=False),
    Column("due", Text, nullable=False),  # the last working day to resolve it, ISO date
    Column("state", Text, nullable=False),  # open, in_progress, resolved, followed_up
    Column("resolved_at", Text),
    Column("followed_up_at", Text),
    Column("updated_at", Text, nullable=False),
    UniqueConstraint("kiosk_id", "uuid", name="bad_cases_rating"),
    Index("bad_cases_state_due", "state", "due"),
    Index("bad_cases_rated_at", "rated_at"),  # 整改率 and 回访率 over a period
)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=False),
    Column("at", Text, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("state", Text, nullable=False),  # the state the case went to (or stayed in)
    Column("note", Text, nullable=False),  # what was done; never a phone number or a name
    Index("case_notes_case", "case_id"),
)
