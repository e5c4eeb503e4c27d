"""python -m mindlinks_dev.iam DIRECTORY [--unused]: check recorded AWS calls."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mindlinks_dev.iam.calls import read_calls
from mindlinks_dev.iam.check import check, report, unused_lines
from mindlinks_fleet import FLEET


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mindlinks_dev.iam", description=__doc__)
    parser.add_argument("directory", type=Path, help="where the services recorded their calls")
    parser.add_argument("--unused", action="store_true", help="also list grants no call used")
    args = parser.parse_args(argv)
    findings = check(FLEET, read_calls(args.directory, FLEET.name))
    print(report(FLEET, findings, with_unused=args.unused))
    if args.unused:
        print("\n".join(unused_lines(FLEET, findings)))
    return 0 if findings.ok else 1


if __name__ == "__main__":
    sys.exit(main())
