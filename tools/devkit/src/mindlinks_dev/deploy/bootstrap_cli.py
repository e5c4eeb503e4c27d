"""Bootstrap an AWS endpoint (compose's moto container) from the fleet declaration.

    python -m mindlinks_dev.deploy.bootstrap_cli --endpoint http://aws:5000 \\
        --prefix mindlinks-local-

The same ``mindlinks_dev.bootstrap`` that ``make run`` uses: every table,
bucket, bus, rule, queue, key and service secret. Waits for the endpoint
first; exits 0 when done (compose starts the services after that).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.embedded import wait_for
from mindlinks_fleet import FLEET


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mindlinks_dev.deploy.bootstrap_cli")
    parser.add_argument("--endpoint", required=True, help="the AWS endpoint, e.g. http://aws:5000")
    parser.add_argument("--prefix", required=True, help="resource prefix, e.g. mindlinks-local-")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--wait", type=float, default=60.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    wait_for(f"{args.endpoint.rstrip('/')}/moto-api/", timeout=args.wait)
    done = bootstrap(FLEET, endpoint_url=args.endpoint, prefix=args.prefix, region=args.region)
    print(
        f"bootstrapped {len(done.tables)} tables, {len(done.queues)} queues, "
        f"{len(done.buckets)} buckets, {len(done.service_secrets)} service secrets",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
