"""Which environment a pushed ref deploys, and with what: the deploy
workflow's first step, as ``GITHUB_OUTPUT`` lines.

    python -m mindlinks_dev.deploy.target refs/tags/v1.4.0 >> "$GITHUB_OUTPUT"

``REFS`` is the one mapping: deploy.yml's triggers and its concurrency group
follow it, and infra/terraform/bootstrap trusts each environment's roles only
from its ref (the tests hold them equal). Everything else comes from the
environment's ``terraform.tfvars``: the account, the resource prefix, the
public API (``https://<domain_name>``), and so the roles bootstrap names
``<name>-plan`` and ``<name>-deploy`` in that account — nothing to copy into
GitHub by hand.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mindlinks_dev.deploy.matrix import matrix
from mindlinks_dev.openapi import repo_root
from mindlinks_fleet import FLEET

REFS = {
    "dev": "refs/heads/main",
    "staging": "refs/heads/release/*",
    "prod": "refs/tags/v*",
}
"""The ref each environment deploys from, as IAM's ``StringLike`` reads it
(``*`` matches any characters, ``/`` included)."""


def environment_of(ref: str) -> str | None:
    for environment, pattern in REFS.items():
        if fnmatch.fnmatchcase(ref, pattern):
            return environment
    return None


@dataclass(frozen=True)
class Target:
    environment: str
    account_id: str
    prefix: str
    domain_name: str

    @property
    def name(self) -> str:
        """What the platform names things with (``local.name``)."""
        return self.prefix.removesuffix("-")

    def role_arn(self, kind: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.name}-{kind}"

    def outputs(self, root: Path) -> dict[str, str]:
        return {
            "environment": self.environment,
            "account-id": self.account_id,
            "prefix": self.prefix,
            "name": self.name,
            "plan-role": self.role_arn("plan"),
            "deploy-role": self.role_arn("deploy"),
            "api-url": f"https://{self.domain_name}",
            "matrix": json.dumps(matrix(FLEET, root), separators=(",", ":")),
        }


STRING_SETTING = re.compile(r'^(\w+)\s*=\s*"([^"\\$]*)"\s*$', re.MULTILINE)
"""A top-level ``name = "literal"`` line (what this reads of the tfvars; the
workflow's first job runs before the infrastructure tools are installed)."""


def target(environment: str, root: Path) -> Target:
    path = root / "infra" / "terraform" / "envs" / environment / "terraform.tfvars"
    values = dict(STRING_SETTING.findall(path.read_text(encoding="utf-8")))
    return Target(
        environment=environment,
        account_id=str(values["account_id"]),
        prefix=str(values["resource_prefix"]),
        domain_name=str(values["domain_name"]),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mindlinks_dev.deploy.target")
    parser.add_argument("ref", help="the pushed ref (GITHUB_REF)")
    args = parser.parse_args(argv)
    environment = environment_of(args.ref)
    if environment is None:
        parser.error(f"no environment deploys from {args.ref}")
    root = repo_root(Path.cwd())
    for key, value in target(environment, root).outputs(root).items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
