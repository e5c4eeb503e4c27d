"""The embedded AWS counts every call by ``service:Action`` and by resource."""

from __future__ import annotations

import asyncio

import aioboto3
import httpx

from mindlinks_dev.embedded import moto_server
from mindlinks_dev.motoserver import COUNTS_PATH, call_name, resource_of


def test_call_names_from_signature_scope_target_action_and_method() -> None:
    signed = "AWS4-HMAC-SHA256 Credential=local/20261203/eu-west-1/{}/aws4_request, Sig=x"
    dynamodb = {
        "HTTP_AUTHORIZATION": signed.format("dynamodb"),
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems",
    }
    assert call_name(dynamodb) == "dynamodb:TransactWriteItems"
    query = {"HTTP_AUTHORIZATION": signed.format("sqs"), "QUERY_STRING": "Action=SendMessage&V=1"}
    assert call_name(query) == "sqs:SendMessage"
    s3 = {"HTTP_AUTHORIZATION": signed.format("s3"), "REQUEST_METHOD": "PUT"}
    assert call_name(s3) == "s3:PUT"
    assert call_name({"REQUEST_METHOD": "GET"}) == "unsigned:GET"


def test_resources_are_the_table_queue_events_or_bucket_a_call_names() -> None:
    table = "mindlinks-local-ledger-journal"
    assert resource_of({}, {"TableName": "mindlinks-local-contract-outbox"}) == (
        "mindlinks-local-contract-outbox"
    )
    transact = {"TransactItems": [{"Put": {"TableName": table}}, {"Update": {"TableName": "x"}}]}
    assert resource_of({}, transact) == table
    assert resource_of({}, {"RequestItems": {"b": [], "a": []}}) == "a+b"
    queue = {"QueueUrl": "http://127.0.0.1:5000/123456789012/mindlinks-local-contract"}
    assert resource_of({}, queue) == "mindlinks-local-contract"
    events = {"Entries": [{"DetailType": "b.x"}, {"DetailType": "a.y"}, {"DetailType": "b.x"}]}
    assert resource_of({}, events) == "a.y+b.x"
    assert resource_of({}, {"SecretId": "arn:aws:secretsmanager:eu-west-1:1:secret/s"}) == "s"
    assert resource_of({"PATH_INFO": "/bucket/some/key"}, None) == "bucket"
    assert resource_of({"QUERY_STRING": "Action=ListQueues"}, None) == ""


def test_a_real_server_counts_calls_and_resets() -> None:
    async def calls(endpoint: str) -> None:
        session = aioboto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-1"
        )
        async with session.client("sqs", endpoint_url=endpoint) as sqs:
            await sqs.create_queue(QueueName="counted")
            await sqs.list_queues()
            await sqs.list_queues()

    with moto_server() as endpoint:
        httpx.delete(endpoint + COUNTS_PATH)
        asyncio.run(calls(endpoint))
        assert httpx.get(endpoint + COUNTS_PATH).json() == {
            "sqs:CreateQueue": 1,
            "sqs:ListQueues": 2,
        }
        httpx.delete(endpoint + COUNTS_PATH)
        assert httpx.get(endpoint + COUNTS_PATH).json() == {}


def test_a_real_server_counts_by_resource_and_moto_still_reads_the_body() -> None:
    async def calls(endpoint: str) -> dict[str, object]:
        session = aioboto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-1"
        )
        async with session.client("sqs", endpoint_url=endpoint) as sqs:
            created = await sqs.create_queue(QueueName="by-resource")
            await sqs.send_message(QueueUrl=created["QueueUrl"], MessageBody="kept")
            received = await sqs.receive_message(QueueUrl=created["QueueUrl"])
            return dict(received["Messages"][0])

    with moto_server() as endpoint:
        httpx.delete(endpoint + COUNTS_PATH)
        assert asyncio.run(calls(endpoint))["Body"] == "kept"
        assert httpx.get(endpoint + COUNTS_PATH, params={"by": "resource"}).json() == {
            "sqs:CreateQueue": 1,
            "sqs:SendMessage by-resource": 1,
            "sqs:ReceiveMessage by-resource": 1,
        }


def test_a_retried_transaction_with_its_token_commits_once() -> None:
    """A retry of a committed transaction (same ClientRequestToken) answers
    success, as DynamoDB does; another token meets the condition it wrote."""

    async def run(endpoint: str) -> str:
        session = aioboto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-1"
        )
        async with session.client("dynamodb", endpoint_url=endpoint) as dynamodb:
            await dynamodb.create_table(
                TableName="once",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            put = {
                "Put": {
                    "TableName": "once",
                    "Item": {"id": {"S": "a"}},
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            }
            await dynamodb.transact_write_items(TransactItems=[put], ClientRequestToken="t1")
            await dynamodb.transact_write_items(TransactItems=[put], ClientRequestToken="t1")
            try:
                await dynamodb.transact_write_items(TransactItems=[put], ClientRequestToken="t2")
            except dynamodb.exceptions.TransactionCanceledException:
                return "refused"
            return "applied twice"

    with moto_server() as endpoint:
        assert asyncio.run(run(endpoint)) == "refused"


def test_each_json_target_is_dispatched_to_its_own_service_once_looked_up() -> None:
    """The dispatcher's memory is keyed by signing service and target prefix:
    DynamoDB, SQS and Secrets Manager calls, interleaved, each reach their
    own backend every time."""

    async def run(endpoint: str) -> tuple[list[str], list[str], str]:
        session = aioboto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-1"
        )
        async with (
            session.client("dynamodb", endpoint_url=endpoint) as dynamodb,
            session.client("sqs", endpoint_url=endpoint) as sqs,
            session.client("secretsmanager", endpoint_url=endpoint) as secrets,
        ):
            for round_ in range(2):
                await dynamodb.create_table(
                    TableName=f"t{round_}",
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
                await sqs.create_queue(QueueName=f"q{round_}")
                await secrets.create_secret(Name=f"s{round_}", SecretString=str(round_))
            tables = (await dynamodb.list_tables())["TableNames"]
            queues = [url.rsplit("/", 1)[-1] for url in (await sqs.list_queues())["QueueUrls"]]
            secret = (await secrets.get_secret_value(SecretId="s1"))["SecretString"]
            return tables, queues, secret

    with moto_server() as endpoint:
        assert asyncio.run(run(endpoint)) == (["t0", "t1"], ["q0", "q1"], "1")


def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was() -> None:
    """Rolled back from copies of its items: a put, an update and a delete
    applied before a failing condition are all undone; other items stay."""

    async def run(endpoint: str) -> list[dict[str, object]]:
        session = aioboto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-1"
        )
        async with session.client("dynamodb", endpoint_url=endpoint) as dynamodb:
            await dynamodb.create_table(
                TableName="rows",
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            for sk in ("kept", "updated", "deleted"):
                await dynamodb.put_item(
                    TableName="rows", Item={"pk": {"S": "a"}, "sk": {"S": sk}, "n": {"N": "1"}}
                )

            def key(sk: str) -> dict[str, dict[str, str]]:
                return {"pk": {"S": "a"}, "sk": {"S": sk}}

            try:
                await dynamodb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": "rows", "Item": key("new") | {"n": {"N": "9"}}}},
                        {
                            "Update": {
                                "TableName": "rows",
                                "Key": key("updated"),
                                "UpdateExpression": "SET n = :n",
                                "ExpressionAttributeValues": {":n": {"N": "9"}},
                            }
                        },
                        {"Delete": {"TableName": "rows", "Key": key("deleted")}},
                        {
                            "ConditionCheck": {
                                "TableName": "rows",
                                "Key": key("kept"),
                                "ConditionExpression": "n = :two",
                                "ExpressionAttributeValues": {":two": {"N": "2"}},
                            }
                        },
                    ]
                )
            except dynamodb.exceptions.TransactionCanceledException:
                pass
            else:
                raise AssertionError("the condition should have cancelled the transaction")
            scanned = await dynamodb.scan(TableName="rows")
            return sorted(scanned["Items"], key=lambda item: str(item["sk"]))

    with moto_server() as endpoint:
        assert asyncio.run(run(endpoint)) == [
            {"pk": {"S": "a"}, "sk": {"S": sk}, "n": {"N": "1"}}
            for sk in ("deleted", "kept", "updated")
        ]
