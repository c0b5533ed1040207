#!/usr/bin/env python3
"""One line per contest run: score, share of its ceiling, p99, settlements and CPU per payment.

  bench/contest/table.py LABEL=OUT_DIR [LABEL=OUT_DIR ...]   (tab-separated, with a header)

Each OUT_DIR is what `scripts/contest.sh --out=OUT_DIR` wrote: final-results.json (the official
shape), run.json (rinha-load's summary) and resources.json (cgroup counters per service). The
share of the ceiling is computed here from final-results.json as rinha-load computes it (every
successful POST at the test's amount, the default's fee, bonus 20 %), so that runs of an older
runner, which did not print it, compare on the same terms.
"""

import json
import os
import sys

SERVICES = ("lb", "edge1", "edge2", "router", "ledger")


def row(label, out):
    with open(os.path.join(out, "final-results.json")) as f:
        official = json.load(f)
    with open(os.path.join(out, "run.json")) as f:
        summary = json.load(f)["summary"]
    with open(os.path.join(out, "resources.json")) as f:
        services = {s["name"]: s for s in json.load(f)["services"]}
    ok = official["pagamentos_solicitados"]["qtd_sucesso"]
    d = official["pagamentos_realizados_default"]
    fb = official["pagamentos_realizados_fallback"]
    settled = d["num_pagamentos"] + fb["num_pagamentos"]
    # The test's amount and the default's fee, from what the default holds (or the fallback).
    amount = fee_rate = None
    for p in (d, fb):
        if p["num_pagamentos"] > 0 and amount is None:
            amount = p["total_bruto"] / p["num_pagamentos"]
    if d["total_bruto"] > 0:
        fee_rate = d["total_taxas"] / d["total_bruto"]
    ceiling = ok * amount * (1 - fee_rate) * 1.2 if amount and fee_rate is not None else None
    score = official["total_liquido"]
    cpu = {name: services[name]["cpu_s"] for name in SERVICES if name in services}
    throttled = max(
        (services[n]["nr_throttled"] / services[n]["nr_periods"]
         for n in SERVICES if n in services and services[n]["nr_periods"]),
        default=0.0)
    total_cpu = sum(cpu.values())
    fields = [
        label,
        f"{score:.0f}",
        f"{100 * score / ceiling:.2f}" if ceiling else "n/a",
        f"{summary['p99_ms']:.2f}",
        str(ok),
        str(summary.get("failed", 0)),
        str(summary.get("inconsistencies", 0)),
        str(summary.get("lag", 0)),
        str(d["num_pagamentos"]),
        str(fb["num_pagamentos"]),
    ]
    fields += [f"{cpu.get(n, 0):.2f}" for n in SERVICES]
    fields.append(f"{1e6 * total_cpu / settled:.0f}" if settled else "n/a")
    fields.append(f"{100 * throttled:.2f}")
    return fields


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv[1:]):
        sys.stderr.write(__doc__)
        return 2
    header = ["run", "score", "share_%", "p99_ms", "ok", "failed", "inconsistencies", "lag",
              "default", "fallback"] + [f"{n}_cpu_s" for n in SERVICES] + [
                  "us_per_payment", "max_throttled_%"]
    print("\t".join(header))
    for arg in argv[1:]:
        label, out = arg.split("=", 1)
        try:
            print("\t".join(row(label, out)))
        except (OSError, KeyError, ValueError) as e:
            print(f"{label}\tunreadable: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
