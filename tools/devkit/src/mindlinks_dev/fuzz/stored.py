""" "Stores nothing", checked in the embedded AWS itself: a digest of every
item of every table of the fleet, taken once the fleet is quiet, before and
after a batch of requests that must all be refused."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS

Snapshot = dict[str, str]
"""Table name → digest of its items."""


class Tables:
    def __init__(self, state: Mapping[str, Any]) -> None:
        aws = state["aws"]
        self.prefix: str = aws["prefix"]
        self.dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=aws["endpoint"],
            region_name="eu-west-1",
            **LOCAL_CREDENTIALS,
        )

    def names(self) -> list[str]:
        names: list[str] = []
        for page in self.dynamodb.get_paginator("list_tables").paginate():
            names.extend(n for n in page["TableNames"] if n.startswith(self.prefix))
        return sorted(names)

    def items(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
        return items

    def digest(self, table: str) -> str:
        rows = sorted(json.dumps(item, sort_keys=True) for item in self.items(table))
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()

    def snapshot(self) -> Snapshot:
        names = self.names()
        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(zip(names, pool.map(self.digest, names), strict=True))

    def quiet(self, seconds: float = 30.0, settle: float = 1.5) -> Snapshot:
        """A snapshot once two in a row, ``settle`` seconds apart, agree: the
        events of whatever came before have all been applied."""
        deadline = time.monotonic() + seconds
        previous = self.snapshot()
        while True:
            time.sleep(settle)
            current = self.snapshot()
            if current == previous or time.monotonic() > deadline:
                return current
            previous = current


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Tables whose items differ (added, changed or removed)."""
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
