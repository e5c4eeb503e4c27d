"""PUT/GET /v1/contractors/me/bank-details: validated, sealed with KMS envelope
encryption, shown masked; decrypted only for the payment service."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag

from mindlinks_contractor.vault import Sealed, Vault
from mindlinks_dev.harness import Running

if TYPE_CHECKING:
    from conftest import World

IBAN = "GB29 NWBK 6016 1331 9268 19"
SEPA = {
    "accountHolder": "Grace Hopper",
    "country": "GB",
    "currency": "GBP",
    "iban": IBAN,
    "bankName": "NatWest",
}


async def test_an_iban_is_stored_sealed_and_shown_masked(fleet: Running, world: World) -> None:
    _, contractor, accepted = await world.onboarded()
    response = await world.contractor.put(
        "/v1/contractors/me/bank-details", headers=contractor.headers, json=SEPA
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown == {
        "accountHolder": "Grace Hopper",
        "country": "GB",
        "currency": "GBP",
        "bankName": "NatWest",
        "scheme": "iban",
        "iban": "GB** **** **** **** 6819",
        "accountNumber": None,
        "routingNumber": None,
        "sortCode": None,
        "updatedAt": shown["updatedAt"],
        "version": 1,
    }
    read = await world.contractor.get("/v1/contractors/me/bank-details", headers=contractor.headers)
    assert read.json() == shown

    contractor_id = accepted["contractor"]["id"]
    stored = (
        await fleet.runtime("contractor").table("bank-details").get({"contractorId": contractor_id})
    )
    assert stored is not None
    raw = json.dumps(stored)
    assert "GB29NWBK60161331926819" not in raw
    assert "NWBK" not in raw
    assert set(stored["sealed"]) == {"iban"}
    assert stored["encryptedDataKey"]
    assert stored["keyId"].startswith("arn:aws:kms:")

    payout = await world.contractor.get(
        f"/internal/contractors/{contractor_id}/payout-details",
        headers=fleet.service_bearer("payment"),
    )
    assert payout.status_code == 200, payout.text
    assert payout.json() == {
        "contractorId": contractor_id,
        "accountHolder": "Grace Hopper",
        "country": "GB",
        "currency": "GBP",
        "bankName": "NatWest",
        "scheme": "iban",
        "iban": "GB29NWBK60161331926819",
        "accountNumber": None,
        "routingNumber": None,
        "sortCode": None,
    }


@pytest.mark.parametrize(
    ("account", "masked"),
    [
        (
            {
                "accountNumber": "000123456789",
                "routingNumber": "021000021",
                "country": "US",
                "currency": "usd",
            },
            {
                "scheme": "local",
                "accountNumber": "********6789",
                "routingNumber": "*****0021",
                "sortCode": None,
            },
        ),
        (
            {
                "accountNumber": "31926819",
                "sortCode": "60-16-13",
                "country": "GB",
                "currency": "GBP",
            },
            {
                "scheme": "local",
                "accountNumber": "****6819",
                "routingNumber": None,
                "sortCode": "**-**-13",
            },
        ),
    ],
)
async def test_local_accounts(
    fleet: Running, world: World, account: dict[str, Any], masked: dict[str, Any]
) -> None:
    _, contractor, accepted = await world.onboarded()
    body = {"accountHolder": "Grace Hopper", **account}
    response = await world.contractor.put(
        "/v1/contractors/me/bank-details", headers=contractor.headers, json=body
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert {k: shown[k] for k in masked} == masked
    assert shown["iban"] is None
    assert shown["currency"] == account["currency"].upper()
    payout = await world.contractor.get(
        f"/internal/contractors/{accepted['contractor']['id']}/payout-details",
        headers=fleet.service_bearer("payment"),
    )
    clear = payout.json()
    assert clear["accountNumber"] == account["accountNumber"]
    assert clear.get("sortCode") in (None, account.get("sortCode", "").replace("-", ""))


async def test_replacing_with_optimistic_locking(world: World) -> None:
    _, contractor, _ = await world.onboarded()
    path = "/v1/contractors/me/bank-details"
    first = await world.contractor.put(
        path, headers=contractor.headers, json={**SEPA, "version": 1}
    )
    world.problem(first, 409, "stale-version")  # nothing to be at version 1 yet
    first = await world.contractor.put(path, headers=contractor.headers, json=SEPA)
    assert first.json()["version"] == 1
    second = await world.contractor.put(
        path,
        headers=contractor.headers,
        json={**SEPA, "iban": "DE89 3704 0044 0532 0130 00", "currency": "EUR", "version": 1},
    )
    assert second.status_code == 200, second.text
    assert (second.json()["iban"], second.json()["version"]) == ("DE** **** **** **** 3000", 2)
    world.problem(
        await world.contractor.put(path, headers=contractor.headers, json={**SEPA, "version": 1}),
        409,
        "stale-version",
    )
    unversioned = await world.contractor.put(path, headers=contractor.headers, json=SEPA)
    assert unversioned.json()["version"] == 3


@pytest.mark.parametrize(
    "change",
    [
        {"iban": "GB29 NWBK 6016 1331 9268 18"},  # check digits
        {"iban": "GB29 NWBK 6016 1331 9268"},  # length for GB
        {"iban": "not an iban"},
        {"iban": None},  # neither scheme
        {"accountNumber": "31926819", "sortCode": "601613"},  # both schemes
        {"iban": None, "accountNumber": "31926819"},  # no routing or sort code
        {"iban": None, "accountNumber": "31926819", "routingNumber": "021000022"},  # ABA checksum
        {
            "iban": None,
            "accountNumber": "31926819",
            "routingNumber": "021000021",
            "sortCode": "601613",
        },
        {"iban": None, "accountNumber": "12ab", "sortCode": "601613"},
        {"iban": None, "accountNumber": "31926819", "sortCode": "6016"},
        {"currency": "pounds"},
        {"country": "GBR"},
        {"accountHolder": ""},
        {"iban": 12345},
        {"extra": "field"},
    ],
)
async def test_bad_bank_details_are_refused(world: World, change: dict[str, Any]) -> None:
    _, contractor, _ = await world.onboarded()
    body = {k: v for k, v in {**SEPA, **change}.items() if v is not None}
    response = await world.contractor.put(
        "/v1/contractors/me/bank-details", headers=contractor.headers, json=body
    )
    world.problem(response, 422, "invalid-input")
    assert "6016" not in response.text or "6016" in json.dumps(
        change
    )  # no echo of the stored account


async def test_bank_details_are_the_contractors_own(fleet: Running, world: World) -> None:
    owner, contractor, accepted = await world.onboarded()
    path = "/v1/contractors/me/bank-details"
    world.problem(
        await world.contractor.get(path, headers=contractor.headers), 404, "bank-details-not-found"
    )
    world.problem(
        await world.contractor.put(path, headers=owner.headers, json=SEPA), 403, "forbidden"
    )
    world.problem(await world.contractor.put(path, json=SEPA), 401, "unauthorized")
    newcomer = await world.account()
    world.problem(
        await world.contractor.put(path, headers=newcomer.headers, json=SEPA),
        404,
        "contractor-not-onboarded",
    )

    contractor_id = accepted["contractor"]["id"]
    payout = f"/internal/contractors/{contractor_id}/payout-details"
    world.problem(
        await world.contractor.get(payout, headers=fleet.service_bearer("payment")),
        404,
        "bank-details-not-found",
    )
    for service in ("contract", "kyc", "client"):
        world.problem(
            await world.contractor.get(payout, headers=fleet.service_bearer(service)),
            403,
            "forbidden",
        )
    world.problem(
        await world.contractor.get(payout, headers=contractor.headers), 401, "unauthorized"
    )


async def test_sealed_fields_only_open_in_their_place(fleet: Running) -> None:
    """AES-GCM with the field name and KMS encryption context bound in: a
    ciphertext moved to another field, or another record's context, fails."""
    runtime = fleet.runtime("contractor")
    vault = Vault(runtime.aws.kms, f"alias/{runtime.settings.resource_prefix}data")
    context = {"service": "contractor", "record": "bank-details", "contractorId": "c-1"}
    sealed = await vault.seal({"iban": "GB29NWBK60161331926819", "sort_code": "601613"}, context)
    assert await vault.open(sealed, context) == {
        "iban": "GB29NWBK60161331926819",
        "sort_code": "601613",
    }
    assert base64.b64decode(sealed.fields["iban"])[12:] != b"GB29NWBK60161331926819"

    swapped = Sealed(sealed.key_id, sealed.encrypted_key, {"iban": sealed.fields["sort_code"]})
    with pytest.raises(InvalidTag):
        await vault.open(swapped, context)
    with pytest.raises(ClientError) as refused:
        await vault.open(sealed, {**context, "contractorId": "c-2"})
    assert refused.value.response["Error"]["Code"] == "InvalidCiphertextException"
