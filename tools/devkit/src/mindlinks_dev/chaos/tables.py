"""Direct reads of a local fleet's tables and clients of its embedded AWS:
the oracle's view, behind no proxy, that no service can shade."""

from __future__ import annotations

from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS
from mindlinks_dev.chaos.fleet import Endpoints


def aws(fleet: Endpoints, name: str) -> Any:
    session = boto3.Session(region_name="eu-west-1", **LOCAL_CREDENTIALS)
    return session.client(name, endpoint_url=fleet.aws_direct)


def scan(fleet: Endpoints, service: str, table: str) -> list[dict[str, Any]]:
    """Every item of a table of the fleet, as plain values."""
    client = aws(fleet, "dynamodb")
    paginator = client.get_paginator("scan")
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    for page in paginator.paginate(TableName=f"{fleet.prefix}{service}-{table}"):
        items += [{k: deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"]]
    return items
