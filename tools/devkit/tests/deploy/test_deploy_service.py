"""infra/scripts/deploy-service.sh and plan-artifact.sh, run for real against
stand-ins of the AWS CLI and of the smoke test (no account here): a failed
smoke test rolls back the deployment of the service it tested and nothing
else; an inconclusive one rolls nothing back; a sealed plan opens only as
the plan that was sealed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

FAKE_AWS = r"""#!/usr/bin/env bash
# Records each call; answers as ECS would for one service's deployment.
echo "aws $*" >> "${CALLS}"
service=""
previous=""
for arg in "$@"; do
  [[ "${previous}" == "--service" ]] && service="${arg}"
  previous="${arg}"
done
case "$1 $2" in
  "ecs describe-task-definition")
    echo '{"family":"f","containerDefinitions":[{"name":"app","image":"old",'\
'"environment":[{"name":"MINDLINKS_VERSION","value":"old"}]}]}' ;;
  "ecs register-task-definition") echo "arn:aws:ecs:eu-west-1:111111111111:task-definition/f:2" ;;
  "ecs update-service") echo "${service}" ;;
  "ecs list-service-deployments")
    echo "arn:aws:ecs:eu-west-1:111111111111:service-deployment/mindlinks-cluster/${service}/d1" ;;
  "ecs describe-service-deployments")
    case "$*" in
      *lifecycleStage*) echo "BAKE_TIME" ;;
      *) echo "SUCCESSFUL" ;;
    esac ;;
  "kms generate-data-key")
    wrapped="$(printf 'sealed:%s' "${DATA_KEY}" | base64 -w0)"
    printf '{"CiphertextBlob":"%s","Plaintext":"%s"}\n' "${wrapped}" "${DATA_KEY}" ;;
  "kms decrypt") echo "${DATA_KEY}" ;;
esac
"""

FAKE_PYTHON = """#!/usr/bin/env bash
# The smoke test's stand-in: records its arguments, exits as told.
echo "python $*" >> "${CALLS}"
exit "${SMOKE_EXIT}"
"""


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("aws", FAKE_AWS), ("python", FAKE_PYTHON)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    return bin_dir


def run(
    root: Path, fakes: Path, script: str, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = fakes.parent / "calls.log"
    calls.write_text("")
    environ = {
        **os.environ,
        "PATH": f"{fakes}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "DATA_KEY": "c2Vzc2lvbi1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=",
        **env,
    }
    result = subprocess.run(
        ["bash", str(root / "infra" / "scripts" / script), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, calls.read_text().splitlines()


def deploy(root: Path, fakes: Path, service: str, smoke_exit: int, **env: str):
    image = f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/mindlinks-prod-{service}:abc123"
    return run(
        root,
        fakes,
        "deploy-service.sh",
        "mindlinks-prod",
        service,
        image,
        "https://api.test",
        SMOKE_EXIT=str(smoke_exit),
        **env,
    )


def test_a_passing_smoke_test_records_the_tag_and_rolls_nothing_back(
    root: Path, fakes: Path
) -> None:
    result, calls = deploy(root, fakes, "payment", 0)
    assert result.returncode == 0, result.stderr
    assert "python -m mindlinks_dev.deploy.smoke https://api.test --service payment" in calls
    assert not any("stop-service-deployment" in call for call in calls)
    assert any(
        "ssm put-parameter --name /mindlinks-prod/image-tag/payment" in c and "--value abc123" in c
        for c in calls
    )


def test_a_failed_smoke_test_rolls_back_that_services_deployment_only(
    root: Path, fakes: Path
) -> None:
    result, calls = deploy(root, fakes, "payment", 1)
    assert result.returncode == 1
    stops = [call for call in calls if "stop-service-deployment" in call]
    assert stops == [
        "aws ecs stop-service-deployment --service-deployment-arn "
        "arn:aws:ecs:eu-west-1:111111111111:service-deployment/mindlinks-cluster/payment/d1 "
        "--stop-type ROLLBACK"
    ]
    assert not any("ssm put-parameter" in call for call in calls)


def test_an_inconclusive_smoke_test_rolls_nothing_back_and_fails(root: Path, fakes: Path) -> None:
    result, calls = deploy(root, fakes, "user", 2)
    assert result.returncode == 1
    assert "inconclusive" in result.stderr
    assert not any("stop-service-deployment" in call for call in calls)
    assert not any("ssm put-parameter" in call for call in calls)


def test_smoke_reads_can_be_skipped_until_the_accounts_exist(root: Path, fakes: Path) -> None:
    _, calls = deploy(root, fakes, "kyc", 0, SMOKE_READS="skip")
    assert "python -m mindlinks_dev.deploy.smoke https://api.test --service kyc --no-reads" in calls


def test_a_sealed_plan_opens_only_as_itself(root: Path, fakes: Path, tmp_path: Path) -> None:
    plan = tmp_path / "tfplan"
    plan.write_bytes(b"a saved plan\x00with the state in it")
    sealed = tmp_path / "artifact"
    result, calls = run(root, fakes, "plan-artifact.sh", "seal", str(plan), str(sealed))
    assert result.returncode == 0, result.stderr
    sha256 = result.stdout.strip()
    assert b"the state" not in (sealed / "plan.enc").read_bytes()
    assert any("--encryption-context purpose=terraform-plan" in call for call in calls)

    opened = tmp_path / "opened"
    result, _ = run(root, fakes, "plan-artifact.sh", "open", str(sealed), sha256, str(opened))
    assert result.returncode == 0, result.stderr
    assert opened.read_bytes() == plan.read_bytes()

    result, _ = run(root, fakes, "plan-artifact.sh", "open", str(sealed), "0" * 64, str(opened))
    assert result.returncode == 1
    assert not opened.exists()
