"""DynamoDB, the way every service uses it.

- ``Table``: typed get/put/query on one of the service's own tables.
- ``UnitOfWork``: state changes (and, through the outbox, their events)
  committed in one ``TransactWriteItems``; domain code adds to it, the route or
  consumer commits — never the domain.
- Optimistic locking through a ``version`` attribute.
- Pagination cursors signed with HMAC and bound to the query they came from,
  so they cannot be forged or replayed against another list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore import xform_name
from botocore.exceptions import ClientError

from mindlinks_kit.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

    from mindlinks_kit import declaration
    from mindlinks_kit.dynamo_wire import DynamoWire

Item = dict[str, Any]
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


_BATCH_GET_KEYS = 100  # what one BatchGetItem takes


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def to_wire(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_wire(raw: dict[str, Any]) -> Item:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in raw.items()}


def values(**kwargs: Any) -> dict[str, Any]:
    """Expression attribute values from keyword arguments (``:name``)."""
    return {f":{k}": _serializer.serialize(v) for k, v in kwargs.items()}


class ConditionFailed(Conflict):
    code = "condition-failed"
    title = "The item changed or already exists"


class StaleVersion(Conflict):
    code = "stale-version"
    title = "The object was changed by someone else; reload and retry"


class InvalidCursor(InvalidInput):
    code = "invalid-cursor"
    title = "The pagination cursor is not valid for this list"


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes, scope: str) -> bytes:
        return hmac.new(self._secret, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[
            :16
        ]

    def encode(self, last_key: Item | None, scope: str) -> str | None:
        if not last_key:
            return None
        payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
        token = payload + self._mac(payload, scope)
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, cursor: str | None, scope: str) -> Item | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor() from None
        payload, mac = raw[:-16], raw[-16:]
        if len(raw) <= 16 or not hmac.compare_digest(mac, self._mac(payload, scope)):
            raise InvalidCursor()
        decoded: Item = json.loads(payload)
        return decoded


@dataclass
class Table:
    """One of the service's own tables, by physical name."""

    client: DynamoDBClient
    name: str
    declared: declaration.Table | None = None
    """Its keys and indexes as the fleet declares them (``pages`` reads them)."""
    wire: DynamoWire | None = None
    """Where reads go when set: the same requests without the SDK's per-call
    CPU (docs/adr/0009-hot-dynamodb-reads.md); writes always use ``client``."""

    async def _read(self, operation: str, params: dict[str, Any]) -> Any:
        if self.wire is not None:
            return await self.wire.call(operation, params)
        return await getattr(self.client, xform_name(operation))(**params)

    async def get(self, key: Item, *, consistent: bool = True) -> Item | None:
        response = await self._read(
            "GetItem", {"TableName": self.name, "Key": to_wire(key), "ConsistentRead": consistent}
        )
        raw = response.get("Item")
        return from_wire(raw) if raw else None

    async def get_many(self, keys: Sequence[Item], *, consistent: bool = True) -> list[Item | None]:
        """Items by key in ``keys``' order (``None`` where absent): one
        ``BatchGetItem`` call per hundred keys instead of a ``GetItem`` each."""
        if not keys:
            return []
        names = tuple(keys[0])

        def ident(item: Item) -> tuple[Any, ...]:
            return tuple(item[name] for name in names)

        unique = list({ident(key): key for key in keys}.values())
        found: dict[tuple[Any, ...], Item] = {}
        for start in range(0, len(unique), _BATCH_GET_KEYS):
            chunk = [to_wire(key) for key in unique[start : start + _BATCH_GET_KEYS]]
            request: dict[str, Any] = {self.name: {"Keys": chunk, "ConsistentRead": consistent}}
            while request:
                response = await self._read("BatchGetItem", {"RequestItems": request})
                for raw in response.get("Responses", {}).get(self.name, []):
                    item = from_wire(raw)
                    found[ident(item)] = item
                request = response.get("UnprocessedKeys") or {}
        return [found.get(ident(key)) for key in keys]

    async def put(
        self,
        item: Item,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        args: dict[str, Any] = {"TableName": self.name, "Item": to_wire(item)}
        _add_condition(args, condition, names, values)
        try:
            await self.client.put_item(**args)
        except ClientError as exc:
            raise _translate(exc) from exc

    async def update(
        self,
        key: Item,
        expression: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Item:
        args: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_wire(key),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        _add_condition(args, condition, names, values)
        try:
            response = await self.client.update_item(**args)
        except ClientError as exc:
            raise _translate(exc) from exc
        return from_wire(response.get("Attributes", {}))

    async def query(
        self,
        key_condition: str,
        *,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        index: str | None = None,
        limit: int = 50,
        start: Item | None = None,
        forward: bool = True,
        filter_expression: str | None = None,
        consistent: bool = False,
    ) -> tuple[list[Item], Item | None]:
        """One page. ``consistent`` reads the table's latest writes (not on an index)."""
        args: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": values,
            "Limit": limit,
            "ScanIndexForward": forward,
        }
        if consistent:
            args["ConsistentRead"] = True
        if names:
            args["ExpressionAttributeNames"] = names
        if index:
            args["IndexName"] = index
        if filter_expression:
            args["FilterExpression"] = filter_expression
        return await self._page("Query", args, start)

    async def scan(
        self,
        *,
        limit: int = 50,
        start: Item | None = None,
        filter_expression: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> tuple[list[Item], Item | None]:
        """One page of a scan: for small tables and rare operator lists only
        (a scan reads every item; lists users see are queries)."""
        args: dict[str, Any] = {"TableName": self.name, "Limit": limit}
        if filter_expression:
            args["FilterExpression"] = filter_expression
        if names:
            args["ExpressionAttributeNames"] = names
        if values:
            args["ExpressionAttributeValues"] = values
        return await self._page("Scan", args, start)

    async def _page(
        self, operation: str, args: dict[str, Any], start: Item | None
    ) -> tuple[list[Item], Item | None]:
        if start:
            args["ExclusiveStartKey"] = to_wire(start)
        try:
            response = await self._read(operation, args)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ValidationException" and start:
                raise InvalidCursor() from exc  # a cursor of another list or a forged one
            raise
        last = response.get("LastEvaluatedKey")
        return [from_wire(i) for i in response.get("Items", [])], from_wire(last) if last else None

    async def reachable(self) -> None:
        await self.client.describe_table(TableName=self.name)


def _add_condition(
    args: dict[str, Any],
    condition: str | None,
    names: dict[str, str] | None,
    values: dict[str, Any] | None,
) -> None:
    if condition:
        args["ConditionExpression"] = condition
    if names:
        args["ExpressionAttributeNames"] = names
    if values:
        args["ExpressionAttributeValues"] = values


def _translate(exc: ClientError) -> Exception:
    if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
        return ConditionFailed()
    return exc


@dataclass
class _Write:
    operation: dict[str, Any]
    on_condition_failed: Exception


@dataclass
class UnitOfWork:
    """Writes to commit atomically. Collects; ``commit`` is the only I/O."""

    client: DynamoDBClient
    writes: list[_Write] = field(default_factory=list)
    after_commit: list[Any] = field(default_factory=list)

    def put(
        self,
        table: Table,
        item: Item,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_conflict: Exception | None = None,
    ) -> None:
        body: dict[str, Any] = {"TableName": table.name, "Item": to_wire(item)}
        _add_condition(body, condition, names, values)
        self.writes.append(_Write({"Put": body}, on_conflict or ConditionFailed()))

    def create(
        self, table: Table, item: Item, key: str, on_conflict: Exception | None = None
    ) -> None:
        """Put an item that must not exist yet (``key`` is its partition key)."""
        self.put(
            table,
            {**item, "version": 1},
            condition="attribute_not_exists(#k)",
            names={"#k": key},
            on_conflict=on_conflict,
        )

    def replace(
        self,
        table: Table,
        item: Item,
        *,
        expected_version: int,
        on_conflict: Exception | None = None,
    ) -> None:
        """Optimistic locking: replace only if nobody changed it since we read it
        (else ``StaleVersion``, or ``on_conflict``: a ``Contention`` has the
        request decided again on what is there now)."""
        self.put(
            table,
            {**item, "version": expected_version + 1},
            condition="#v = :expected",
            names={"#v": "version"},
            values=values(expected=expected_version),
            on_conflict=on_conflict or StaleVersion(),
        )

    def update(
        self,
        table: Table,
        key: Item,
        expression: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_conflict: Exception | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "TableName": table.name,
            "Key": to_wire(key),
            "UpdateExpression": expression,
        }
        _add_condition(body, condition, names, values)
        self.writes.append(_Write({"Update": body}, on_conflict or ConditionFailed()))

    def delete(
        self,
        table: Table,
        key: Item,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_conflict: Exception | None = None,
    ) -> None:
        body: dict[str, Any] = {"TableName": table.name, "Key": to_wire(key)}
        _add_condition(body, condition, names, values)
        self.writes.append(_Write({"Delete": body}, on_conflict or ConditionFailed()))

    async def commit(self) -> None:
        if not self.writes:
            return
        if len(self.writes) > 100:
            raise ValueError("a DynamoDB transaction holds at most 100 writes")
        try:
            await self.client.transact_write_items(
                TransactItems=[w.operation for w in self.writes],  # type: ignore[misc]
                # The SDK retries a call that timed out; with a token, DynamoDB
                # answers a retry of a transaction that did commit as a success
                # instead of failing its conditions against its own writes.
                ClientRequestToken=uuid.uuid4().hex,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            for write, reason in zip(self.writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise write.on_condition_failed from exc
            if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                # A concurrent transaction on one of the items was first (DynamoDB
                # cancels rather than waits): what was read may be stale, read again.
                raise StaleVersion("A concurrent change came first; read again") from exc
            raise
        finally:
            self.writes.clear()
        for callback in self.after_commit:
            callback()
        self.after_commit.clear()
