"""The local certificate authority and time-stamp authority of the embedded AWS.

A service's signing key (``Service.signing_keys``) is an asymmetric KMS key
in AWS and locally alike (the embedded AWS signs with it for real). What
differs is who certifies it: in AWS a CA outside the fleet issues the key's
certificate and ops store the chain in ``<service>/<name>-certificates``;
locally the bootstrap makes a CA once, certifies the key's public key with
it, and makes a time-stamp authority's key and certificate too (the service
answers RFC 3161 requests with them on a local-only route). The secret is
created once: every process, and every restart of the fleet on the same
embedded AWS, finds the same authority.

The secret's JSON: ``{"chain": [key cert, CA cert] (PEM), "trustRoots": [CA
cert], "timestamping": {"key": PEM, "chain": [TSA cert, CA cert]}}``; in AWS
only ``chain`` and ``trustRoots`` (the time-stamp authority is an outside
service named by URL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_SPEC = "RSA_3072"
"""KMS key spec of every signing key (RSASSA-PKCS1-v1_5 with SHA-256 signs)."""
CA_YEARS, LEAF_YEARS = 10, 3


def signing_key_alias(prefix: str, service: str, name: str) -> str:
    return f"alias/{prefix}{service}-{name}"


def certificates_secret(service: str, name: str) -> str:
    """The unprefixed name of the secret with a signing key's certificate chain."""
    return f"{service}/{name}-certificates"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mind-Links (local)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _issue(
    subject: x509.Name,
    public_key: PublicKeyTypes,
    issuer: tuple[x509.Name, rsa.RSAPrivateKey],
    years: int,
    *,
    ca: bool = False,
    time_stamping: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca and not time_stamping,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
    )
    if time_stamping:
        # RFC 3161 §2.3: a TSA's certificate has exactly this critical EKU.
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(issuer_key, hashes.SHA256())


def local_authority(public_key_der: bytes, common_name: str) -> dict[str, Any]:
    """A new CA, the certificate of the signing key ``public_key_der`` (DER
    SubjectPublicKeyInfo, as KMS ``GetPublicKey`` gives it) and a new TSA."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_name = _name("Mind-Links local CA")
    ca = _issue(ca_name, ca_key.public_key(), (ca_name, ca_key), CA_YEARS, ca=True)
    key_certificate = _issue(
        _name(common_name),
        serialization.load_der_public_key(public_key_der),
        (ca_name, ca_key),
        LEAF_YEARS,
    )
    # 2048 bits: pyhanko's local time-stamper loads its key for every token,
    # and a 3072-bit key costs ~120 ms a load (2048: a third of that).
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _issue(
        _name("Mind-Links local time-stamp authority"),
        tsa_key.public_key(),
        (ca_name, ca_key),
        LEAF_YEARS,
        time_stamping=True,
    )
    tsa_pem = tsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "chain": [_pem(key_certificate), _pem(ca)],
        "trustRoots": [_pem(ca)],
        "timestamping": {"key": tsa_pem, "chain": [_pem(tsa), _pem(ca)]},
    }


def make_signing_key(kms: Any, secrets_manager: Any, prefix: str, service: str, name: str) -> None:
    """The KMS signing key and, locally, its authority (both once)."""
    alias = signing_key_alias(prefix, service, name)
    aliases = kms.list_aliases()["Aliases"]
    if not any(a["AliasName"] == alias for a in aliases):
        key_id = kms.create_key(
            Description=f"{prefix}{service}-{name}",
            KeyUsage="SIGN_VERIFY",
            KeySpec=KEY_SPEC,
        )["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    secret = f"{prefix}{certificates_secret(service, name)}"
    try:
        secrets_manager.describe_secret(SecretId=secret)
        return
    except secrets_manager.exceptions.ResourceNotFoundException:
        pass
    public_key = kms.get_public_key(KeyId=alias)["PublicKey"]
    authority = local_authority(public_key, f"Mind-Links document {name} (local)")
    # A concurrent bootstrap may have made it first: keep theirs.
    with contextlib.suppress(secrets_manager.exceptions.ResourceExistsException):
        secrets_manager.create_secret(Name=secret, SecretString=json.dumps(authority))
