"""Create every AWS resource of the fleet declaration in an AWS endpoint
(the embedded moto server locally and in tests).

Terraform creates the same resources on AWS from the same declaration; the
drift test in ``infra`` checks the two agree.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mindlinks_dev.iam.policy import SIGNING_KEYS_SECRET
from mindlinks_kit.declaration import Fleet, Table

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

    dynamodb, sqs, events, s3 = client("dynamodb"), client("sqs"), client("events"), client("s3")
    secrets_manager, kms = client("secretsmanager"), client("kms")
    result = Bootstrapped(prefix=prefix)

    for service in fleet.services:
        for table in fleet.tables(service.name):
            physical = f"{prefix}{service.name}-{table.name}"
            _ignore(
                ("ResourceInUseException",),
                dynamodb.create_table,
                **table_definition(physical, table),
            )
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=physical,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            result.tables.append(physical)
        for bucket in service.buckets:
            name = f"{prefix}{bucket.name}"
            args: dict[str, Any] = {
                "Bucket": name,
                "ObjectLockEnabledForBucket": bucket.object_lock,
                "CreateBucketConfiguration": {"LocationConstraint": region},
            }
            _ignore(("BucketAlreadyOwnedByYou", "BucketAlreadyExists"), s3.create_bucket, **args)
            result.buckets.append(name)

    bus = f"{prefix}{fleet.bus}"
    _ignore(("ResourceAlreadyExistsException",), events.create_event_bus, Name=bus)
    for service in fleet.services:
        if not service.queue:
            continue
        dlq_url = sqs.create_queue(
            QueueName=f"{prefix}{service.queue}-dlq",
            Attributes={"MessageRetentionPeriod": "1209600"},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue_url = sqs.create_queue(
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
        result.queues[service.name] = queue_url

    alias = f"alias/{prefix}data"
    if not any(a["AliasName"] == alias for a in kms.list_aliases()["Aliases"]):
        key_id = kms.create_key(Description=f"{prefix}data")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    given = service_secrets or {}
    for service in fleet.services:
        value = given.get(service.name) or secrets.token_urlsafe(32)
        created = _ignore(
            ("ResourceExistsException",),
            secrets_manager.create_secret,
            Name=f"{prefix}service/{service.name}",
            SecretString=value,
        )
        if created is None:
            value = secrets_manager.get_secret_value(SecretId=f"{prefix}service/{service.name}")[
                "SecretString"
            ]
        result.service_secrets[service.name] = value
    _ignore(
        ("ResourceExistsException",),
        secrets_manager.create_secret,
        Name=f"{prefix}{SIGNING_KEYS_SECRET}",
        SecretString=first_signing_keys(),
    )
    return result


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
