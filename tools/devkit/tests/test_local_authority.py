"""The local certificate and time-stamp authorities: made once per embedded
AWS, so every process and every restart of the fleet finds the same ones, and
the certificate they issue is the KMS signing key's."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from mindlinks_dev.bootstrap import LOCAL_CREDENTIALS
from mindlinks_dev.local_authority import (
    certificates_secret,
    make_signing_key,
    signing_key_alias,
)


def _clients(endpoint: str) -> tuple[Any, Any]:
    session = boto3.Session(region_name="eu-west-1", **LOCAL_CREDENTIALS)
    return (
        session.client("kms", endpoint_url=endpoint),
        session.client("secretsmanager", endpoint_url=endpoint),
    )


def test_the_authority_is_made_once_and_certifies_the_kms_key(aws_endpoint: str) -> None:
    kms, secrets = _clients(aws_endpoint)
    prefix = f"la{uuid.uuid4().hex[:8]}-"
    make_signing_key(kms, secrets, prefix, "signature", "seal")
    name = f"{prefix}{certificates_secret('signature', 'seal')}"
    first = secrets.get_secret_value(SecretId=name)["SecretString"]
    make_signing_key(kms, secrets, prefix, "signature", "seal")  # a second bootstrap, a restart
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == first
    alias = signing_key_alias(prefix, "signature", "seal")
    assert [a["AliasName"] for a in kms.list_aliases()["Aliases"]].count(alias) == 1

    authority = json.loads(first)
    leaf, ca = (x509.load_pem_x509_certificate(p.encode()) for p in authority["chain"])
    assert authority["trustRoots"] == [authority["chain"][1]]
    public = kms.get_public_key(KeyId=alias)
    metadata = kms.describe_key(KeyId=alias)["KeyMetadata"]
    assert (metadata["KeyUsage"], metadata["KeySpec"]) == ("SIGN_VERIFY", "RSA_3072")
    assert leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == bytes(public["PublicKey"])
    leaf.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    tsa = x509.load_pem_x509_certificate(authority["timestamping"]["chain"][0].encode())
    tsa.verify_directly_issued_by(ca)
    usage = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert usage.critical
    assert list(usage.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
