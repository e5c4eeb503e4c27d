#!/usr/bin/env bash
# make images: build every service image and the dev image from docker/Dockerfile
# with a private Docker engine, then run each service image until /health/live
# answers and check that it stops cleanly on SIGTERM.
#
# For machines without Docker Hub: the Dockerfile's base image is replaced by
# a stand-in built with debootstrap (Debian bookworm: python3 3.11, venv). The
# Dockerfile pins its base by digest, which no local image can carry, so the
# builds read a copy of it whose base stage starts FROM the stand-in.
# Networking stays on the host: the engine runs with --bridge=none
# --iptables=false (no bridge network is ever created), builds and containers
# use --network host, and everything a container talks to (moto, Redis)
# listens on 127.0.0.1.
#
# Needs root, docker.io and debootstrap (apt-get install docker.io debootstrap)
# and the workspace venv (make setup).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${IMAGES_WORK_DIR:-${root}/.run/images}"
python="${root}/.venv/bin/python"
sock="${work}/docker.sock"
export DOCKER_HOST="unix://${sock}"
export DOCKER_BUILDKIT=0 # the classic builder: no frontend image to pull
offset=25000 # beside `make run` (declared ports) and the e2e suite (+20000), below the ephemeral range
prefix="mindlinks-images-"
pids=()
containers=()

say() { printf 'images: %s\n' "$*"; }

for tool in dockerd docker debootstrap; do
  command -v "${tool}" >/dev/null || { say "${tool} is not installed (apt-get install docker.io debootstrap)"; exit 1; }
done
[[ -x "${python}" ]] || { say "run make setup first"; exit 1; }

# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  for container in "${containers[@]}"; do docker rm -f "${container}" >/dev/null 2>&1 || true; done
  for pid in "${pids[@]}"; do kill "${pid}" 2>/dev/null || true; done
  if [[ -f "${work}/dockerd.pid" ]]; then
    kill "$(cat "${work}/dockerd.pid")" 2>/dev/null || true
  fi
}
trap cleanup EXIT

free_port() {
  "${python}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # url seconds
  "${python}" - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit(1)
EOF
}

# The Debian mirror this machine's apt uses (read now, written nowhere).
mirror() {
  local found
  found="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit} /^deb / && $2 !~ /security/ {print $2; exit}')"
  [[ -n "${found}" ]] || { say "no Debian mirror in /etc/apt/sources.list*"; exit 1; }
  printf '%s\n' "${found}"
}

mkdir -p "${work}"
say "starting a private Docker engine (${sock})"
dockerd --data-root "${work}/data" --exec-root "${work}/exec" --pidfile "${work}/dockerd.pid" \
  --host "unix://${sock}" --bridge=none --iptables=false --ip-masq=false \
  >"${work}/dockerd.log" 2>&1 &
for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
docker info >/dev/null || { say "dockerd did not start; see ${work}/dockerd.log"; exit 1; }

# The base stage (FROM python:...@sha256:... AS base) starts from the stand-in.
base="mindlinks/python-standin:3.11-slim-bookworm"
dockerfile="${work}/Dockerfile"
sed -E "s|^FROM python:[^ ]+ AS base\$|FROM ${base} AS base|" "${root}/docker/Dockerfile" >"${dockerfile}"
grep -q "^FROM ${base} AS base\$" "${dockerfile}" || { say "docker/Dockerfile has no 'FROM python:... AS base' line"; exit 1; }
if ! docker image inspect "${base}" >/dev/null 2>&1; then
  say "building the stand-in for ${base} with debootstrap"
  rootfs="${work}/rootfs"
  rm -rf "${rootfs}"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "${rootfs}" "$(mirror)" >"${work}/debootstrap.log" 2>&1
  ln -sf /usr/bin/python3 "${rootfs}/usr/local/bin/python"
  rm -rf "${rootfs}/var/lib/apt/lists/"* "${rootfs}/var/cache/apt/"*
  # This machine's trust store (it may reach PyPI through a TLS-inspecting
  # egress), and pip/uv told to use it: the stand-in only, never the Dockerfile.
  cp /etc/ssl/certs/ca-certificates.crt "${rootfs}/etc/ssl/certs/ca-certificates.crt"
  bundle=/etc/ssl/certs/ca-certificates.crt
  tar -C "${rootfs}" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change "ENV SSL_CERT_FILE=${bundle} PIP_CERT=${bundle} REQUESTS_CA_BUNDLE=${bundle}" \
    - "${base}" >/dev/null
  rm -rf "${rootfs}"
fi

mapfile -t services < <("${python}" -m mindlinks_dev.deploy.matrix \
  | "${python}" -c 'import json, sys; [print(e["service"], e["port"]) for e in json.load(sys.stdin)["include"]]')

say "building mindlinks/dev:local"
docker build --network host --quiet --file "${dockerfile}" --target dev \
  --build-arg PACKAGE=tools/devkit --tag mindlinks/dev:local "${root}" >/dev/null
for entry in "${services[@]}"; do
  read -r service port <<<"${entry}"
  say "building mindlinks/${service}:local"
  docker build --network host --quiet --file "${dockerfile}" \
    --build-arg "SERVICE=${service}" --build-arg "PORT=${port}" \
    --tag "mindlinks/${service}:local" "${root}" >/dev/null
done

moto_port="$(free_port)"
"${python}" -m moto.server -H 127.0.0.1 -p "${moto_port}" >"${work}/moto.log" 2>&1 &
pids+=("$!")
redis_port="$(free_port)"
if command -v redis-server >/dev/null; then
  redis-server --bind 127.0.0.1 --port "${redis_port}" --save "" --appendonly no >"${work}/redis.log" 2>&1 &
else
  "${python}" -c "from fakeredis import TcpFakeServer; TcpFakeServer(('127.0.0.1', ${redis_port}), server_type='redis').serve_forever()" \
    >"${work}/redis.log" 2>&1 &
fi
pids+=("$!")
"${python}" -m mindlinks_dev.deploy.bootstrap_cli --endpoint "http://127.0.0.1:${moto_port}" --prefix "${prefix}"

failed=0
for entry in "${services[@]}"; do
  read -r service port <<<"${entry}"
  listen=$((port + offset))
  container="mindlinks-images-${service}"
  docker rm -f "${container}" >/dev/null 2>&1 || true
  docker run --detach --name "${container}" --network host --read-only --tmpfs /tmp \
    --env MINDLINKS_ENVIRONMENT=local --env "MINDLINKS_RESOURCE_PREFIX=${prefix}" \
    --env "MINDLINKS_AWS_ENDPOINT_URL=http://127.0.0.1:${moto_port}" --env MINDLINKS_AWS_REGION=eu-west-1 \
    --env AWS_ACCESS_KEY_ID=local --env AWS_SECRET_ACCESS_KEY=local --env AWS_DEFAULT_REGION=eu-west-1 \
    --env "MINDLINKS_REDIS_URL=redis://127.0.0.1:${redis_port}/0" \
    --env "MINDLINKS_PEER_URL_TEMPLATE=http://127.0.0.1:{port}" --env "MINDLINKS_PORT_OFFSET=${offset}" \
    --env MINDLINKS_MAILBOX_DIR=/tmp/mailbox --env "PORT=${listen}" \
    "mindlinks/${service}:local" >/dev/null
  containers+=("${container}")
  if wait_http "http://127.0.0.1:${listen}/health/live" 60; then
    docker stop --time 25 "${container}" >/dev/null
    code="$(docker inspect --format '{{.State.ExitCode}}' "${container}")"
    if [[ "${code}" == "0" ]]; then
      say "${service}: /health/live answered; stopped cleanly on SIGTERM"
    else
      say "${service}: exit code ${code} after SIGTERM"
      failed=1
    fi
  else
    say "${service}: /health/live did not answer; its log:"
    docker logs "${container}" 2>&1 | tail -20
    failed=1
  fi
done
exit "${failed}"
