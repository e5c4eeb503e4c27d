#!/usr/bin/env bash
# Carry a saved Terraform plan from the deploy workflow's plan job to its
# apply job. A plan file holds the prior state (the Redis AUTH token among
# it) and a GitHub artifact is readable by whoever can read the repository,
# so the plan travels encrypted: AES-256 under a fresh data key of the state's
# KMS key (alias/mindlinks-tfstate), the data key itself KMS-encrypted beside
# it. Only roles that may decrypt with the state key (the environment's plan
# and deploy roles) can open it, and the apply job checks it is byte for byte
# the plan that was reviewed (its SHA-256, a job output of the plan job).
#
#   plan-artifact.sh seal <plan> <dir>           writes <dir>/plan.enc and <dir>/plan.key,
#                                                prints the plan's SHA-256
#   plan-artifact.sh open <dir> <sha256> <plan>  writes <plan>, or fails if it is not that plan
set -euo pipefail

key_alias="alias/mindlinks-tfstate"
context="purpose=terraform-plan"

usage() {
  echo "usage: $0 seal <plan> <dir> | open <dir> <sha256> <plan>" >&2
  exit 2
}

sha256() {
  sha256sum "$1" | cut -d ' ' -f 1
}

seal() {
  local plan="$1" dir="$2" data_key
  mkdir -p "${dir}"
  data_key="$(aws kms generate-data-key --key-id "${key_alias}" --key-spec AES_256 \
    --encryption-context "${context}" --output json)"
  jq -r .CiphertextBlob <<<"${data_key}" >"${dir}/plan.key"
  openssl enc -aes-256-cbc -pbkdf2 -salt -in "${plan}" -out "${dir}/plan.enc" \
    -pass fd:3 3< <(jq -r .Plaintext <<<"${data_key}")
  sha256 "${plan}"
}

open_plan() {
  local dir="$1" expected="$2" plan="$3" actual
  openssl enc -d -aes-256-cbc -pbkdf2 -in "${dir}/plan.enc" -out "${plan}" \
    -pass fd:3 3< <(aws kms decrypt --ciphertext-blob "$(cat "${dir}/plan.key")" \
      --encryption-context "${context}" --query Plaintext --output text)
  actual="$(sha256 "${plan}")"
  if [[ "${actual}" != "${expected}" ]]; then
    echo "plan-artifact: ${plan} has SHA-256 ${actual}, the plan job made ${expected}" >&2
    rm -f "${plan}"
    exit 1
  fi
  echo "plan-artifact: ${plan} is the reviewed plan (${actual})"
}

case "${1:-}" in
  seal)
    [[ $# -eq 3 ]] || usage
    seal "$2" "$3"
    ;;
  open)
    [[ $# -eq 4 ]] || usage
    open_plan "$2" "$3" "$4"
    ;;
  *) usage ;;
esac
