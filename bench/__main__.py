"""`make bench` (python -m bench [NAME...]): every benchmark, or those named. `appliance` builds the lab
image (root) and boots it under QEMU for minutes: run it alone under `flock /work/notes/vm.lock` when
other VMs may be running (`make bench BENCH_ARGS=appliance`)."""

import importlib
import sys

BENCHMARKS = ["latency", "issuance", "write", "hotplug", "startup", "tap", "soak", "idcard", "appliance"]


def main(names: list[str]) -> int:
    failed = []
    for name in names or BENCHMARKS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"bench {name}: not available ({exc})")
            failed.append(name)
            continue
        print(f"\n# bench.{name}")
        sys.argv = [f"python -m bench.{name}"]  # each benchmark parses its own options: defaults here
        module.main()
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))
