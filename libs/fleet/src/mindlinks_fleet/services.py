"""The eleven services: port, public area, tables, peers, subscriptions, size."""

from __future__ import annotations

from mindlinks_kit.declaration import Bucket, Index, Key, Service, Sizing, Table

SERVICES: tuple[Service, ...] = (
    Service(
        "auth",
        port=3001,
        area="auth",
        tables=(
            Table("users", pk=Key("id"), indexes=(Index("by-email", pk=Key("email")),)),
            Table(
                "sessions",
                pk=Key("id"),
                indexes=(Index("by-user", pk=Key("userId")),),
                ttl_attribute="expiresAt",
            ),
        ),
        peers=("notification",),
        redis=True,
        extra_public_paths=("/.well-known/jwks.json",),
        sizing=Sizing(cpu=256, memory=512, min_tasks=1, max_tasks=5),
    ),
    Service(
        "user",
        port=3002,
        area="users",
        tables=(Table("profiles", pk=Key("userId")), Table("preferences", pk=Key("userId"))),
        peers=("auth",),
        consumes=("user.created",),
    ),
    Service(
        "client",
        port=3003,
        area="clients",
        tables=(Table("companies", pk=Key("id")), Table("invitations", pk=Key("id"))),
        peers=("auth", "notification"),
    ),
    Service(
        "contractor",
        port=3004,
        area="contractors",
        tables=(Table("profiles", pk=Key("id")), Table("bank-details", pk=Key("contractorId"))),
        peers=("auth", "client"),
    ),
    Service(
        "kyc",
        port=3005,
        area="kyc",
        tables=(Table("sessions", pk=Key("id")), Table("documents", pk=Key("id"))),
        buckets=(Bucket("kyc-documents"),),
        peers=("contractor", "notification"),
    ),
    Service(
        "contract",
        port=3006,
        area="contracts",
        tables=(Table("contracts", pk=Key("id")), Table("templates", pk=Key("id"))),
        buckets=(Bucket("contract-documents"),),
        peers=("client", "contractor", "notification"),
        sizing=Sizing(cpu=512, memory=1024, min_tasks=2, max_tasks=10),
    ),
    Service(
        "signature",
        port=3007,
        area="signatures",
        tables=(Table("signatures", pk=Key("id")),),
        peers=("contract", "ledger", "notification"),
    ),
    Service(
        "ledger",
        port=3008,
        area="ledger",
        tables=(Table("journal", pk=Key("seq", "N")),),
        buckets=(Bucket("ledger-digests", object_lock=True),),
        peers=("contract", "notification"),
    ),
    Service(
        "payment",
        port=3009,
        area="payments",
        tables=(Table("transactions", pk=Key("id")), Table("escrow", pk=Key("id"))),
        peers=("contract", "contractor", "notification"),
        sizing=Sizing(cpu=512, memory=1024, min_tasks=2, max_tasks=10),
    ),
    Service(
        "notification",
        port=3010,
        area="notifications",
        tables=(
            Table(
                "notifications",
                pk=Key("id"),
                indexes=(Index("by-user", pk=Key("userId"), sk=Key("createdAt")),),
            ),
            Table("templates", pk=Key("name")),
        ),
        peers=("user",),
        consumes=("user.created",),
        redis=True,
    ),
    Service(
        "admin",
        port=3011,
        area="admin",
        tables=(Table("audit", pk=Key("id")),),
        peers=(
            "auth",
            "user",
            "client",
            "contractor",
            "kyc",
            "contract",
            "signature",
            "ledger",
            "payment",
            "notification",
        ),
    ),
)
