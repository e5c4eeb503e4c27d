"""Settings every service shares, read from the environment (pydantic-settings).

Defaults are the local embedded ones. Outside local mode (``MINDLINKS_ENVIRONMENT``
other than ``local``/``test``) the settings refuse, each with one sentence
naming the variable, what only makes sense on a developer's machine:

- secrets shorter than 32 bytes or equal to a development value
  (``MINDLINKS_CURSOR_SECRET``, ``MINDLINKS_SERVICE_SECRET`` when given, and a
  service's ``development_secrets``);
- URLs people or providers are sent to that are not ``https://`` on a public
  host (``public_urls``: ``MINDLINKS_PUBLIC_BASE_URL`` and a service's own);
- local-only settings that would take effect, changed from their default
  (``local_only``: ``MINDLINKS_PORT_OFFSET``, ``MINDLINKS_AWS_ENDPOINT_URL``);
  the local providers' settings are inert outside local mode and not refused;
- the local resource prefix, peers on this host, and (in a service that uses
  Redis) a Redis URL without TLS or a password.

``from_environment(Settings)`` builds a service's settings and, when they are
refused, ends the process with that one line instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "dev", "staging", "prod"]
LOCAL_ENVIRONMENTS = ("local", "test")
DEV_SECRET = "local-development-only-secret"  # noqa: S105 - refused outside local
LOCAL_RESOURCE_PREFIX = "mindlinks-local-"
MIN_SECRET_BYTES = 32
"""256 bits: an HMAC-SHA256 key gains nothing from more and loses from less."""
EX_CONFIG = 78
"""sysexits.h: configuration error (the process exit status when refused)."""
ENV_PREFIX = "MINDLINKS_"

S = TypeVar("S", bound="ServiceSettings")


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def is_local_host(host: str) -> bool:
    """``localhost``, ``*.localhost`` or an address that is not globally
    routable (loopback, private, link-local, unspecified)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            host.strip("[]")
        )
    except ValueError:
        try:  # the shorthand forms browsers accept too: 127.1, 2130706433, 0x7f.1
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def public_https(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return url.startswith("https://") and bool(host) and not is_local_host(host or "")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    local_only: ClassVar[tuple[str, ...]] = ("port_offset", "aws_endpoint_url")
    """Settings that must keep their default outside local mode."""
    public_urls: ClassVar[tuple[str, ...]] = ("public_base_url",)
    """URLs (when set) that must be ``https://`` on a public host outside local mode."""
    development_secrets: ClassVar[dict[str, str]] = {"cursor_secret": DEV_SECRET}
    """Secret settings and the development value each must not have outside local mode."""
    uses_redis: ClassVar[bool] = False
    """True in a service the fleet declares with Redis (a fleet test keeps them in step)."""

    environment: Environment = "local"
    version: str = "0.1.0"
    resource_prefix: str = LOCAL_RESOURCE_PREFIX
    """Prefix of every physical AWS resource name (tables, queues, buckets, secrets)."""

    aws_region: str = "eu-west-1"
    aws_endpoint_url: str | None = None
    """Set locally (the embedded moto server); unset on AWS."""
    aws_call_log: str | None = None
    """A directory: each distinct AWS call this process makes is recorded there,
    so the test suite can hold every call against the service's IAM role
    (``mindlinks_dev.iam``). The test session sets it; ignored outside local mode
    (test instrumentation, not a setting a deployment could need)."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    peer_url_template: str = "http://127.0.0.1:{port}"
    """Discovery: AWS ``http://{name}.mindlinks.internal:{port}``, compose ``http://{name}:{port}``."""

    port_offset: int = 0
    """Added to every declared port (local only: lets a second fleet, e.g. the
    end-to-end suite's, run beside a developer's ``make run``)."""
    public_base_url: str = "http://localhost:8080"
    """Where links in emails point (the dashboards' origin in deployed environments)."""

    jwt_issuer: str = "https://api.mindlinks.com"
    jwt_audience: str = "mindlinks-api"
    access_token_ttl_seconds: int = 900
    service_token_ttl_seconds: int = 300
    service_secret: SecretStr | None = None
    """This service's credential for minting service tokens; read from Secrets
    Manager (``<prefix>service/<name>``) when not given."""
    cursor_secret: SecretStr = SecretStr(DEV_SECRET)

    http_timeout_seconds: float = 5.0
    http_attempts: int = 3
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0

    background_workers: bool = True
    """Run the outbox relay and the queue consumer as background tasks; tests
    turn them off and move events deterministically (``Running.deliver``)."""
    relay_interval_seconds: float = 5.0
    """The outbox sweep's interval after activity; it doubles while sweeps
    find nothing, up to ``relay_idle_interval_seconds``."""
    relay_idle_interval_seconds: float = 60.0
    timer_tick_seconds: float = 1.0
    """Locally: how often each task looks whether a timer can be due (the
    clock against the earliest due time it knows; a query only then, after a
    set here, or once a minute). In AWS the sweep queries at least every
    ``timer_grace_seconds / 10``, also re-creating missing schedules: there
    it is only the safety net."""
    timer_grace_seconds: float = 900.0
    """In AWS: how late past due a timer must be before the sweep fires it
    itself (EventBridge Scheduler lost it). Local mode has no scheduler, and
    the sweep fires every timer as soon as it is due."""
    timer_scheduler_role_arn: str | None = None
    """The role EventBridge Scheduler assumes to send a timer's firing to its
    service's queue (Terraform's ``timers`` role); required in AWS by a
    service that declares timers."""
    revocation_refresh_seconds: float = 2.0
    """How old each task's copy of its service's revocations may be when it
    checks a token; older, it reloads first."""
    revocation_retention_seconds: int = 3600
    membership_ttl_seconds: float = 60.0
    """How long a service keeps a user's tenant memberships. A change is
    applied sooner: it is a revocation event (``mindlinks_kit.tenancy``)."""
    """How long a revocation is kept: longer than any access token lives."""
    otel_exporter_endpoint: str | None = None
    log_level: str = "INFO"
    trusted_proxy_hops: int = 0
    """Proxies in front of the service that append to ``X-Forwarded-For``
    (local edge: 1; API Gateway + ALB: 2). 0 trusts only the socket peer."""

    @property
    def local_mode(self) -> bool:
        return self.environment in LOCAL_ENVIRONMENTS

    @model_validator(mode="after")
    def _refuse_local_settings_when_deployed(self) -> ServiceSettings:
        refused = None if self.local_mode else deployed_refusal(self)
        if refused:
            raise ValueError(refused)
        return self

    def physical(self, name: str) -> str:
        return f"{self.resource_prefix}{name}"


def deployed_refusal(settings: ServiceSettings) -> str | None:
    """The first setting that only makes sense locally, as one sentence."""
    for field, development in settings.development_secrets.items():
        secret = getattr(settings, field)
        if secret is not None and secret.get_secret_value() == development:
            return f"{env_name(field)} must be set (not the development value) outside local mode"
    for field in ("cursor_secret", "service_secret"):
        secret = getattr(settings, field)
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            return f"{env_name(field)} must be at least {MIN_SECRET_BYTES} bytes outside local mode"
    for field in settings.local_only:
        if getattr(settings, field) != type(settings).model_fields[field].default:
            return f"{env_name(field)} is for local mode only"
    for field in settings.public_urls:
        url = getattr(settings, field)
        if url is not None and not public_https(url):
            return f"{env_name(field)} must be an https:// URL on a public host outside local mode"
    if settings.resource_prefix == LOCAL_RESOURCE_PREFIX:
        return f"MINDLINKS_RESOURCE_PREFIX must not be {LOCAL_RESOURCE_PREFIX} outside local mode"
    try:
        peer = urlsplit(settings.peer_url_template.format(name="peer", port=1)).hostname
    except (KeyError, IndexError, ValueError):  # other placeholders, or not a URL
        return "MINDLINKS_PEER_URL_TEMPLATE must be a URL with only {name} and {port} in braces"
    if not peer or is_local_host(peer):
        return (
            "MINDLINKS_PEER_URL_TEMPLATE must name another host outside local mode "
            "(e.g. http://{name}.mindlinks.internal:{port})"
        )
    if settings.uses_redis and not _tls_with_password(settings.redis_url):
        return "MINDLINKS_REDIS_URL must be rediss:// (TLS) with a password outside local mode"
    return None


def _tls_with_password(redis_url: str) -> bool:
    try:
        parts = urlsplit(redis_url)
        return parts.scheme == "rediss" and bool(parts.password)
    except ValueError:
        return False


def refusal(error: ValidationError) -> str:
    """One line naming each refused variable, without the values (they may be secrets)."""
    reasons = []
    for found in error.errors(include_url=False, include_input=False):
        cause = (found.get("ctx") or {}).get("error")
        if isinstance(cause, ValueError):
            reasons.append(str(cause))
        else:
            where = env_name(str(found["loc"][0])) if found["loc"] else "settings"
            reasons.append(f"{where}: {found['msg']}")
    return "; ".join(reasons).replace("\n", " ")


def from_environment(settings_type: type[S]) -> S:
    """The service's settings from the environment; refused ones end the
    process (status ``EX_CONFIG``) with one line on stderr, not a traceback."""
    try:
        return settings_type()
    except ValidationError as error:
        print(f"invalid configuration: {refusal(error)}", file=sys.stderr, flush=True)
        raise SystemExit(EX_CONFIG) from None
