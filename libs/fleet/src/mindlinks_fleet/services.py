"""The eleven services: port, public area, tables, peers, subscriptions, size.

``peers`` are the services whose internal routes a service may call (with
auth, where every service gets its token): the fleet refuses a list that
differs from the callers declared in ``mindlinks_fleet.internal``."""

from __future__ import annotations

from mindlinks_fleet.teams import MEMBER_CLAIM
from mindlinks_kit.declaration import (
    Bucket,
    Index,
    Key,
    Revocation,
    Service,
    Sizing,
    Table,
    Timer,
)

REVOCATIONS = (
    Revocation("user.suspended", claim="sub", field="userId"),
    Revocation("session.ended", claim="sid", field="sessionId", permanent=True),
    # No token carries the ``member`` claim: these refuse no token, they make
    # every service drop its cached memberships of the user (mindlinks_kit.tenancy).
    # Joining is not one: a missing membership is asked again instead, so a
    # registration does not fan out to every service.
    Revocation("company.member-role-changed", claim=MEMBER_CLAIM, field="userId"),
    Revocation("company.member-removed", claim=MEMBER_CLAIM, field="userId"),
)
"""Every service consumes them: a suspended user's, or an ended session's,
live access tokens stop working everywhere within seconds, not at expiry
(the kit handles them). A session id is never reused, so its revocation is
permanent; a user's covers only tokens issued until the suspension."""
REVOCATION_EVENTS = tuple(r.event for r in REVOCATIONS)

SERVICES: tuple[Service, ...] = (
    Service(
        "auth",
        port=3001,
        area="auth",
        tables=(
            Table(
                "users",
                pk=Key("id"),
                indexes=(
                    Index("by-email", pk=Key("email")),
                    Index("by-role", pk=Key("role"), sk=Key("createdAt")),
                ),
            ),
            Table(
                "sessions",
                pk=Key("id"),
                indexes=(Index("by-user", pk=Key("userId")),),
                ttl_attribute="expiresAt",
            ),
        ),
        peers=("notification",),
        consumes=REVOCATION_EVENTS,
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
        consumes=(*REVOCATION_EVENTS, "user.created"),
    ),
    Service(
        "client",
        port=3003,
        area="clients",
        tables=(
            Table(
                "companies",
                pk=Key("id"),
                indexes=(
                    Index("by-owner", pk=Key("ownerUserId")),
                    Index("by-status", pk=Key("status"), sk=Key("createdAt")),
                ),
            ),
            Table(
                "invitations",
                pk=Key("id"),
                indexes=(
                    Index("by-company", pk=Key("companyId"), sk=Key("createdAt")),
                    Index("by-token", pk=Key("tokenHash")),
                ),
                ttl_attribute="purgeAt",
            ),
            # An adjacency list: ``company#C``/``user#U`` and ``user#U``/``company#C``
            # for each member, written together, so both a company's members
            # and a user's companies are consistent reads (a GSI lags).
            Table("members", pk=Key("pk"), sk=Key("sk")),
            Table(
                "member-invitations",
                pk=Key("id"),
                indexes=(
                    Index("by-company", pk=Key("companyId"), sk=Key("createdAt")),
                    Index("by-token", pk=Key("tokenHash")),
                ),
                ttl_attribute="purgeAt",
            ),
            # Append-only audit of membership changes; ``changeId`` is the ISO
            # time and a random suffix, so a company's changes sort by time.
            Table("member-changes", pk=Key("companyId"), sk=Key("changeId")),
        ),
        peers=("auth", "notification"),
        consumes=REVOCATION_EVENTS,
    ),
    Service(
        "contractor",
        port=3004,
        area="contractors",
        tables=(
            Table(
                "profiles",
                pk=Key("id"),
                indexes=(
                    Index("by-user", pk=Key("userId")),
                    Index("by-kyc-status", pk=Key("kycStatus"), sk=Key("createdAt")),
                ),
            ),
            Table("bank-details", pk=Key("contractorId")),
            Table(
                "engagements",
                pk=Key("contractorId"),
                sk=Key("companyId"),
                indexes=(Index("by-company", pk=Key("companyId"), sk=Key("contractorId")),),
            ),
        ),
        peers=("auth", "client"),
        consumes=(*REVOCATION_EVENTS, "kyc.verified", "kyc.rejected"),
    ),
    Service(
        "kyc",
        port=3005,
        area="kyc",
        tables=(
            Table(
                "sessions",
                pk=Key("id"),
                indexes=(
                    Index("by-contractor", pk=Key("contractorId"), sk=Key("createdAt")),
                    Index("by-provider-session", pk=Key("providerSessionId")),
                    Index("by-status", pk=Key("status"), sk=Key("createdAt")),
                ),
            ),
            Table("documents", pk=Key("id"), indexes=(Index("by-session", pk=Key("sessionId")),)),
        ),
        buckets=(Bucket("kyc-documents"),),
        peers=("contractor",),
        consumes=REVOCATION_EVENTS,
        idempotent_posts=True,
    ),
    Service(
        "contract",
        port=3006,
        area="contracts",
        tables=(
            Table(
                "contracts",
                pk=Key("id"),
                indexes=(
                    Index("by-company", pk=Key("clientCompanyId"), sk=Key("createdAt")),
                    Index("by-contractor", pk=Key("contractorId"), sk=Key("createdAt")),
                    Index("by-status", pk=Key("status"), sk=Key("createdAt")),
                ),
            ),
            Table(
                "templates",
                pk=Key("id"),
                indexes=(Index("by-company", pk=Key("companyId"), sk=Key("createdAt")),),
            ),
            # Issue 16: every amendment of a contract, in force or not (ADR 0017).
            Table("amendments", pk=Key("contractId"), sk=Key("number", "N")),
        ),
        buckets=(Bucket("contract-documents"),),
        # payment: whether an amendment would change a funded item.
        peers=("client", "contractor", "payment"),
        consumes=(*REVOCATION_EVENTS, "ledger.contract-activated", "payment.item-settled"),
        idempotent_posts=True,
        # Ends a contract whose termination notice ran out (key: the contract id).
        timers=(
            Timer("contract.termination-due"),
            # Issue 16 (key: the contract id): the next reminder to whoever must
            # sign, and the signing deadline that expires an unsigned contract.
            Timer("contract.signing-reminder-due"),
            Timer("contract.signing-deadline-due"),
        ),
        sizing=Sizing(cpu=512, memory=1024, min_tasks=2, max_tasks=10),
    ),
    Service(
        "signature",
        port=3007,
        area="signatures",
        tables=(
            Table(
                "signatures",
                pk=Key("id"),
                indexes=(
                    Index("by-contract", pk=Key("contractId"), sk=Key("signedAt")),
                    # Sparse: only the completing signature carries the sealed
                    # final document's hash (public verification by upload).
                    Index("by-final-hash", pk=Key("finalPdfSha256")),
                ),
            ),
        ),
        peers=("client", "contract", "ledger"),
        consumes=REVOCATION_EVENTS,
        idempotent_posts=True,
        # Per-address limits of the public verify-by-upload route.
        redis=True,
        # Seals the final PDF (PAdES); only this service may sign with it.
        signing_keys=("seal",),
    ),
    Service(
        "ledger",
        port=3008,
        area="ledger",
        tables=(
            Table(
                "journal",
                pk=Key("seq", "N"),
                indexes=(Index("by-subject", pk=Key("subject"), sk=Key("seq", "N")),),
                append_only=True,
            ),
            # The journal's only mutable state (tip, idempotency keys, the newest
            # digest pointer) lives here, so the journal itself stays append-only.
            Table("heads", pk=Key("name")),
        ),
        buckets=(Bucket("ledger-digests", object_lock=True),),
        peers=("contract",),
        consumes=(
            *REVOCATION_EVENTS,
            "signature.completed",
            # The money's steps (issue 15): one journal entry each.
            "payment.confirmed",
            "payment.work-submitted",
            "payment.changes-requested",
            "payment.review-reminder",
            "payment.disputed",
            "payment.released",
            "payment.refunded",
            "payment.item-settled",
            "payment.invoice-issued",
            "contract.terminated",
            # Issue 16: every version of the terms (ADR 0017), and an expiry unsigned.
            "contract.amended",
            "contract.expired",
        ),
    ),
    Service(
        "payment",
        port=3009,
        area="payments",
        tables=(
            Table(
                "transactions",
                pk=Key("id"),
                indexes=(
                    Index("by-contract", pk=Key("contractId"), sk=Key("createdAt")),
                    Index("by-intent", pk=Key("paymentIntentId")),
                    Index("by-client", pk=Key("clientUserId"), sk=Key("createdAt")),
                    Index("by-client-company", pk=Key("clientCompanyId"), sk=Key("createdAt")),
                    Index("by-contractor", pk=Key("contractorUserId"), sk=Key("createdAt")),
                    Index("by-status", pk=Key("status"), sk=Key("createdAt")),
                ),
            ),
            Table(
                "escrow",
                pk=Key("id"),
                indexes=(
                    Index("by-contract", pk=Key("contractId"), sk=Key("itemId")),
                    Index("by-state", pk=Key("state"), sk=Key("createdAt")),
                ),
            ),
            Table("accounts", pk=Key("contractorId")),
            Table(
                "invoices",
                pk=Key("id"),
                indexes=(
                    Index("by-contract", pk=Key("contractId"), sk=Key("issuedAt")),
                    Index("by-client-company", pk=Key("clientCompanyId"), sk=Key("issuedAt")),
                    Index("by-contractor", pk=Key("contractorUserId"), sk=Key("issuedAt")),
                ),
            ),
            # One item per contractor: the last invoice number issued, raised
            # conditionally in each invoice's transaction (no gaps, no repeats).
            Table("invoice-counters", pk=Key("contractorId")),
            # Append-only history of each escrowed item; ``stepId`` is the
            # escrow's version after the step, zero-padded, so steps sort in order.
            Table("escrow-history", pk=Key("escrowId"), sk=Key("stepId"), append_only=True),
        ),
        buckets=(Bucket("escrow-submissions"), Bucket("payment-invoices")),
        timers=(
            Timer("escrow.review-due"),
            Timer("escrow.review-reminder"),
            Timer("escrow.settle-retry"),
        ),
        peers=("client", "contract", "contractor"),
        consumes=(
            *REVOCATION_EVENTS,
            "ledger.contract-activated",
            "contract.terminated",
            "payment.released",
            # Issue 16: added items opened, removed ones cancelled (ADR 0017).
            "contract.amended",
        ),
        idempotent_posts=True,
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
            # Outbound webhooks (issue 16): a company's endpoints, and each
            # delivery of an event to one with its attempts, newest first.
            Table(
                "webhook-endpoints",
                pk=Key("id"),
                indexes=(Index("by-company", pk=Key("companyId"), sk=Key("createdAt")),),
            ),
            Table(
                "webhook-deliveries",
                pk=Key("id"),
                indexes=(Index("by-endpoint", pk=Key("endpointId"), sk=Key("createdAt")),),
                ttl_attribute="purgeAt",
            ),
        ),
        # The next attempt of a webhook delivery (key: the delivery id).
        timers=(Timer("webhook.attempt"),),
        peers=("user", "client"),
        consumes=(
            *REVOCATION_EVENTS,
            "user.created",
            "user.updated",
            "company.reviewed",
            "company.claim-contested",
            "company.member-added",
            "invitation.created",
            "invitation.accepted",
            "kyc.verified",
            "kyc.rejected",
            "contract.sent-for-signature",
            "signature.client-signed",
            "signature.completed",
            "ledger.contract-activated",
            "payment.confirmed",
            "payment.released",
            "payment.work-submitted",
            "payment.changes-requested",
            "payment.review-reminder",
            "payment.disputed",
            "payment.refunded",
            "payment.item-settled",
            "payment.invoice-issued",
            "contract.termination-scheduled",
            "contract.terminated",
            # Issue 16: the signing deadline's reminders, extension and expiry
            # (the expiry also for webhooks: mindlinks_notification.webhooks.catalog).
            "contract.signing-reminder",
            "contract.signing-deadline-extended",
            "contract.expired",
            # Issue 16: amendments (contract.amended also for webhooks).
            "contract.amendment-proposed",
            "signature.amendment-client-signed",
            "signature.amendment-declined",
            "contract.amendment-withdrawn",
            "contract.amended",
        ),
        redis=True,
    ),
    Service(
        "admin",
        port=3011,
        area="admin",
        tables=(
            Table(
                "audit",
                pk=Key("id"),
                indexes=(
                    Index("by-day", pk=Key("day"), sk=Key("id")),
                    Index("by-actor", pk=Key("actorUserId"), sk=Key("id")),
                    Index("by-target", pk=Key("target"), sk=Key("id")),
                ),
                append_only=True,
            ),
        ),
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
        consumes=REVOCATION_EVENTS,
    ),
)
