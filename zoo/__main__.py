"""`python -m zoo list`: the catalog of every method, with its paper and shapes."""
from __future__ import annotations

import argparse
import sys


def _cmd_list(args) -> int:
  from zoo import registry
  rows = registry.entries(args.family)
  kinds = {e.name: ("module" if isinstance(e.obj, type) else "function") for e in rows}
  for e in rows:
    print(f"{e.name:32s} {kinds[e.name]:8s} {e.family:12s} {e.paper}")
    print(f"{'':32s} {'':8s} {'':12s}   {e.shapes}")
  print(f"{len(rows)} methods")
  return 0


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python -m zoo", description="The multimodal model zoo.")
  sub = p.add_subparsers(dest="cmd", required=True)
  ls = sub.add_parser("list", help="print every method: name, kind, family, paper, shapes")
  ls.add_argument("--family", help="only this family (attention, fusion, alignment, ...)")
  ls.set_defaults(fn=_cmd_list)
  args = p.parse_args(argv)
  return args.fn(args)


if __name__ == "__main__":
  sys.exit(main())
