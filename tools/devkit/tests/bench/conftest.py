"""A bench run's figures, made up and small, for the arithmetic's tests."""

from __future__ import annotations

from typing import Any

import pytest

SERVICES = (
    *("auth", "user", "client", "contractor", "kyc", "contract"),
    *("signature", "ledger", "payment", "notification", "admin"),
)


@pytest.fixture
def figures() -> dict[str, Any]:
    rss = dict.fromkeys(SERVICES, 120.0) | {"edge": 100.0, "aws (moto)": 150.0}
    return {
        "when": "2026-12-03 20:00 UTC",
        "command": "make bench",
        "commit": "abc1234",
        "machine": {"cpus": 2, "loadAverage": "1.0 1.0 1.0"},
        "costs": {
            "bare": 0.05,
            "health": 0.2,
            "users_me": 2.5,
            "token_check": 0.003,
            "dynamodb_get": 1.5,
            "argon2": 20.0,
            "login": 30.0,
            "internal": 3.0,
            "internal_bare": 2.5,
            "login_calls": {"dynamodb:GetItem": 2, "dynamodb:PutItem": 1},
        },
        "imports": dict.fromkeys(SERVICES, 4.0) | {"signature": 4.5},
        "importFloor": 1.2,
        "importBreakdown": {"aiohttp": 0.6, "redis": 0.5, "pydantic": 0.4},
        "bare": {"seconds": 10.0, "rss": [50.0] * 12},
        "host": {
            "readySeconds": 12.0,
            "rss": 400.0,
            "awsRss": 150.0,
            "cpuToReady": {"host": 6.0, "aws (moto)": 3.0},
            "bare": {"seconds": 3.0, "rss": [80.0]},
        },
        "fleet": {
            "readySeconds": 40.0,
            "rss": rss,
            "idleSeconds": 60.0,
            "idleCallsPerSecond": 0.8,
            "idleCalls": {"sqs:ReceiveMessage auth": 3, "dynamodb:Query auth-outbox": 1},
            "idleCores": dict.fromkeys(SERVICES, 0.01),
            "alone": {
                "seconds": 1.0,
                "calls": {
                    "dynamodb:GetItem contract-contracts": 10,
                    "dynamodb:TransactWriteItems contract-contracts": 4,
                    "dynamodb:TransactWriteItems ledger-journal": 3,
                    "dynamodb:Scan ledger-journal": 4,
                    "dynamodb:PutItem admin-audit": 5,
                    "sqs:DeleteMessage contract": 2,
                    "events:PutEvents contract.signed+contract.sent": 1,
                    "s3:PUT mindlinks-local-contract-documents": 1,
                    "dynamodb:DescribeTable contract-contracts": 1,
                },
                "activationCalls": {"dynamodb:GetItem ledger-heads": 8, "dynamodb:Scan x": 4},
                "requests": 100,
                "probeIdleP50": 10.0,
            },
            "edge": {"proxied": 0.5, "own": 0.3, "user": 3.0},
            "together": {
                "count": 10,
                "completed": 10,
                "p50": 4.0,
                "p99": 8.0,
                "min": 2.0,
                "max": 8.0,
                "wall": 30.0,
                "motoCpuSeconds": 20.0,
                "servicesCpuSeconds": 15.0,
                "machineCores": 1.9,
                "probeP50": 50.0,
                "failures": [],
                "cpuPerLifecycle": dict.fromkeys(SERVICES, 0.1) | {"contract": 0.5},
                "calls": {},
            },
        },
        "ci": {"seconds": 1347.0, "source": "written down"},
    }
