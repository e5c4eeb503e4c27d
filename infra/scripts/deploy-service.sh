#!/usr/bin/env bash
# Deploy one image to one ECS service (ECS-native blue/green) and record it.
#
#   infra/scripts/deploy-service.sh <name> <service> <image> [smoke-base-url]
#
#   name     the environment's name prefix (mindlinks-dev, mindlinks-prod, ...)
#   service  a service of the fleet (auth, user, ...)
#   image    the pushed image, <registry>/<prefix><service>:<git sha>
#
# Registers a copy of the service's current task definition with the new
# image, starts the deployment and waits until production traffic is on the
# new tasks (the bake time starts; the 5xx and p99 alarms can roll back).
# With a smoke URL it then runs this service's smoke test through the public
# edge (mindlinks_dev.deploy.smoke --service: a signed-in read through the
# service) and rolls back this service's deployment — no other — when it
# fails. An inconclusive test (exit 2: the smoke account could not sign in,
# so auth is in doubt, not this service) rolls nothing back and fails the job.
# Finally it waits for the service to be stable and writes the image tag to
# SSM, which Terraform reads back.
#
# Environment: MINDLINKS_SMOKE_{CLIENT,CONTRACTOR}_{EMAIL,PASSWORD} (the smoke
# accounts); SMOKE_READS=skip leaves out the signed-in read (an environment
# whose smoke accounts do not exist yet).
set -euo pipefail

name="$1"
service="$2"
image="$3"
smoke_url="${4:-}"
cluster="mindlinks-cluster"
family="${name}-${service}"
tag="${image##*:}"

current="$(aws ecs describe-task-definition --task-definition "${family}" --query taskDefinition --output json)"
definition="$(jq --arg image "${image}" --arg tag "${tag}" '
  .containerDefinitions |= map(
    if .name == "app" then
      .image = $image
      | .environment |= map(if .name == "MINDLINKS_VERSION" then .value = $tag else . end)
    else . end)
  | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
        .registeredAt, .registeredBy, .deregisteredAt)' <<<"${current}")"
arn="$(aws ecs register-task-definition --cli-input-json "${definition}" \
  --query taskDefinition.taskDefinitionArn --output text)"
echo "${service}: registered ${arn}"

aws ecs update-service --cluster "${cluster}" --service "${service}" \
  --task-definition "${arn}" --query service.serviceName --output text >/dev/null

deployment=""
for _ in $(seq 60); do
  deployment="$(aws ecs list-service-deployments --cluster "${cluster}" --service "${service}" \
    --status PENDING IN_PROGRESS --query 'serviceDeployments[0].serviceDeploymentArn' --output text)"
  [[ -n "${deployment}" && "${deployment}" != "None" ]] && break
  sleep 5
done
if [[ -z "${deployment}" || "${deployment}" == "None" ]]; then
  echo "${service}: no deployment started" >&2
  exit 1
fi
echo "${service}: deployment ${deployment}"

describe() {
  aws ecs describe-service-deployments --service-deployment-arns "${deployment}" \
    --query "serviceDeployments[0].$1" --output text
}

# Wait until production traffic is on the new tasks (or the deployment ended).
for _ in $(seq 180); do
  status="$(describe status)"
  stage="$(describe lifecycleStage)"
  echo "${service}: ${status} ${stage}"
  case "${status}" in
    SUCCESSFUL) break ;;
    STOPPED | ROLLBACK_*) echo "${service}: deployment ${status}" >&2; exit 1 ;;
  esac
  [[ "${stage}" == "BAKE_TIME" || "${stage}" == "CLEAN_UP" ]] && break
  sleep 10
done

if [[ -n "${smoke_url}" ]]; then
  smoke_args=("${smoke_url}" --service "${service}")
  if [[ "${SMOKE_READS:-required}" == "skip" ]]; then
    smoke_args+=(--no-reads)
  fi
  smoke=0
  python -m mindlinks_dev.deploy.smoke "${smoke_args[@]}" || smoke=$?
  case "${smoke}" in
    0) ;;
    2)
      echo "${service}: smoke test inconclusive (could not sign in): not rolling back" >&2
      exit 1
      ;;
    *)
      echo "${service}: smoke test failed: rolling back ${deployment}" >&2
      aws ecs stop-service-deployment --service-deployment-arn "${deployment}" --stop-type ROLLBACK
      exit 1
      ;;
  esac
fi

# The bake time runs out (alarms may still roll back), then the old tasks go.
for _ in $(seq 360); do
  status="$(describe status)"
  [[ "${status}" == "SUCCESSFUL" || "${status}" == STOPPED || "${status}" == ROLLBACK_* ]] && break
  sleep 10
done
if [[ "${status}" != "SUCCESSFUL" ]]; then
  echo "${service}: deployment ended ${status}" >&2
  exit 1
fi
aws ssm put-parameter --name "/${name}/image-tag/${service}" --type SecureString \
  --value "${tag}" --overwrite >/dev/null
echo "${service}: ${tag} deployed"
