"""Create every AWS resource of the fleet declaration in an AWS endpoint
(the embedded moto server locally and in tests).

Terraform creates the same resources on AWS from the same declaration; the
drift test in ``infra`` checks the two agree.
"""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mindlinks_dev.iam.policy import SIGNING_KEYS_SECRET
from mindlinks_dev.local_authority import make_signing_key
from mindlinks_kit.declaration import Bucket, Fleet, Service, Table
from mindlinks_kit.timer_schedules import SCHEDULE_GROUP

LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@dataclass
class Bootstrapped:
    prefix: str
    tables: list[str] = field(default_factory=list)
    queues: dict[str, str] = field(default_factory=dict)
    buckets: list[str] = field(default_factory=list)
    service_secrets: dict[str, str] = field(default_factory=dict)


def _ignore(codes: tuple[str, ...], call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in codes:
            raise
        return None


def table_definition(physical: str, table: Table) -> dict[str, Any]:
    attributes = {table.pk.name: table.pk.type}
    schema = [{"AttributeName": table.pk.name, "KeyType": "HASH"}]
    if table.sk:
        attributes[table.sk.name] = table.sk.type
        schema.append({"AttributeName": table.sk.name, "KeyType": "RANGE"})
    indexes = []
    for index in table.indexes:
        attributes[index.pk.name] = index.pk.type
        key = [{"AttributeName": index.pk.name, "KeyType": "HASH"}]
        if index.sk:
            attributes[index.sk.name] = index.sk.type
            key.append({"AttributeName": index.sk.name, "KeyType": "RANGE"})
        indexes.append(
            {"IndexName": index.name, "KeySchema": key, "Projection": {"ProjectionType": "ALL"}}
        )
    definition: dict[str, Any] = {
        "TableName": physical,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in attributes.items()
        ],
        "KeySchema": schema,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    return definition


WORKERS = 8
"""Calls in flight at once: the embedded AWS answers on threads, and one call
at a time left both it and the caller mostly waiting on the other."""


def bootstrap(
    fleet: Fleet,
    *,
    endpoint_url: str,
    prefix: str,
    region: str = "eu-west-1",
    service_secrets: dict[str, str] | None = None,
) -> Bootstrapped:
    session = boto3.Session(region_name=region, **LOCAL_CREDENTIALS)

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=endpoint_url)

    # Clients are made here, one thread: boto3 sessions are not thread-safe, clients are.
    dynamodb, sqs, events, s3 = client("dynamodb"), client("sqs"), client("events"), client("s3")
    secrets_manager, kms = client("secretsmanager"), client("kms")
    bus = f"{prefix}{fleet.bus}"
    tables = [
        (f"{prefix}{service.name}-{table.name}", table)
        for service in fleet.services
        for table in fleet.tables(service.name)
    ]
    buckets = [bucket for service in fleet.services for bucket in service.buckets]
    subscribers = [service for service in fleet.services if service.queue]
    given = service_secrets or {}
    with ThreadPoolExecutor(WORKERS) as pool:
        bus_created = pool.submit(
            _ignore, ("ResourceAlreadyExistsException",), events.create_event_bus, Name=bus
        )
        signing_keys = pool.submit(_signing_keys, secrets_manager, prefix)
        waits = [signing_keys]
        if any(service.timers for service in fleet.services):
            # Nothing schedules there locally (the sweep delivers); made so the
            # scheduler path can be exercised against the emulator too.
            waits.append(
                pool.submit(
                    _ignore,
                    ("ConflictException",),
                    client("scheduler").create_schedule_group,
                    Name=f"{prefix}{SCHEDULE_GROUP}",
                )
            )
        data_key = pool.submit(_data_key, kms, prefix)
        waits += [
            pool.submit(make_signing_key, kms, secrets_manager, prefix, service.name, key)
            for service in fleet.services
            for key in service.signing_keys
        ]
        made_tables = [pool.submit(_table, dynamodb, name, table) for name, table in tables]
        made_buckets = [pool.submit(_bucket, s3, prefix, region, bucket) for bucket in buckets]
        secrets_of = {
            service.name: pool.submit(
                _service_secret, secrets_manager, prefix, service.name, given.get(service.name)
            )
            for service in fleet.services
        }
        bus_created.result()  # the rules need their bus
        queues = {
            service.name: pool.submit(_subscription, sqs, events, fleet, prefix, bus, service)
            for service in subscribers
        }
        for waiting in (*waits, data_key):
            waiting.result()
        return Bootstrapped(
            prefix=prefix,
            tables=[made.result() for made in made_tables],
            queues={name: made.result() for name, made in queues.items()},
            buckets=[made.result() for made in made_buckets],
            service_secrets={name: made.result() for name, made in secrets_of.items()},
        )


def _table(dynamodb: Any, physical: str, table: Table) -> str:
    _ignore(("ResourceInUseException",), dynamodb.create_table, **table_definition(physical, table))
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=physical,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
    return physical


def _bucket(s3: Any, prefix: str, region: str, bucket: Bucket) -> str:
    name = f"{prefix}{bucket.name}"
    args: dict[str, Any] = {
        "Bucket": name,
        "ObjectLockEnabledForBucket": bucket.object_lock,
        "CreateBucketConfiguration": {"LocationConstraint": region},
    }
    _ignore(("BucketAlreadyOwnedByYou", "BucketAlreadyExists"), s3.create_bucket, **args)
    return name


def _subscription(
    sqs: Any, events: Any, fleet: Fleet, prefix: str, bus: str, service: Service
) -> str:
    """The service's queue, its dead-letter queue and the bus rule that feeds
    it (when it consumes events); returns the queue's URL."""
    dlq_url = sqs.create_queue(
        QueueName=f"{prefix}{service.queue}-dlq",
        Attributes={"MessageRetentionPeriod": "1209600"},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url: str = sqs.create_queue(
        QueueName=f"{prefix}{service.queue}",
        Attributes={
            "VisibilityTimeout": "30",
            # The consumer dead-letters itself (with the error) at max_receives;
            # SQS's redrive is the safety net for a consumer that keeps crashing.
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": service.max_receives + 2}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    if not service.consumes:
        return queue_url  # only its own timers fire there
    rule = f"{prefix}{service.name}-subscriptions"
    events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps(
            {
                "source": sorted(
                    {f"mindlinks.{fleet.event(e).producer}" for e in service.consumes}
                ),
                "detail-type": sorted(service.consumes),
            }
        ),
    )
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def _data_key(kms: Any, prefix: str) -> None:
    alias = f"alias/{prefix}data"
    if not any(a["AliasName"] == alias for a in kms.list_aliases()["Aliases"]):
        key_id = kms.create_key(Description=f"{prefix}data")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)


def _service_secret(secrets_manager: Any, prefix: str, service: str, given: str | None) -> str:
    """The service's credential for service tokens: ``given``, or a new one,
    or the one an earlier bootstrap stored."""
    value = given or secrets.token_urlsafe(32)
    name = f"{prefix}service/{service}"
    created = _ignore(
        ("ResourceExistsException",),
        secrets_manager.create_secret,
        Name=name,
        SecretString=value,
    )
    if created is None:
        stored: str = secrets_manager.get_secret_value(SecretId=name)["SecretString"]
        return stored
    return value


def _signing_keys(secrets_manager: Any, prefix: str) -> None:
    _ignore(
        ("ResourceExistsException",),
        secrets_manager.create_secret,
        Name=f"{prefix}{SIGNING_KEYS_SECRET}",
        SecretString=first_signing_keys(),
    )


def first_signing_keys() -> str:
    """The token signing keys' first value, as Terraform writes it
    (``modules/security/secrets.tf``): one RSA key, which auth then rotates."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps({"keys": [{"kid": "bootstrap-local", "pem": pem, "createdAt": 0}]})
