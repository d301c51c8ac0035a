"""Prints csession beside its peers from the rounds run.sh measured.

usage: /usr/bin/python3 compare.py [--json OUT] ROUND.jsonl...

Each ROUND.jsonl holds one round: the JSON lines of csession-bench --json
and of the peers, measured back to back. A machine shared with others can
move a figure by a third between runs, so a ratio is only taken between
figures of the same round (seconds apart); the verdict is judged on the
median of those per-round ratios, and the spread over rounds is shown.

--json OUT writes the whole result as one JSON document: each round's
figures, each figure's median and range, each comparison's per-round
ratios, median and verdict.
"""
import json
import statistics
import sys

# peer, csession figure, target (times faster), stretch target, note, limit:
# the figure of the same work without any session (raw Redis commands),
# where there is one. peer / limit is the most any session library could
# reach against that peer on this machine: a target above it cannot be met.
PAIRS = [
    ("node_cookie_session_full", "cookie_signed_full", 10, 20, "", None),
    ("node_cookie_session_read", "cookie_signed_read", None, None, "", None),
    ("python_itsdangerous_full", "cookie_signed_full", 10, None, "", None),
    ("python_itsdangerous_read", "cookie_signed_read", None, None, "", None),
    ("apache_session_crypto_full", "cookie_xchacha_full", 100, None, "Apache over HTTP", None),
    ("apache_session_crypto_full", "cookie_aes_full", 100, None, "Apache over HTTP", None),
    ("apache_session_crypto_read", "cookie_xchacha_read", None, None, "Apache over HTTP", None),
    ("apache_no_session_plain", "cookie_xchacha_full", None, None, "HTTP alone, no session",
     None),
    ("node_express_session_redis_full", "redis_full", 10, None,
     "one request at a time, one connection", "bare_hiredis_getset"),
    ("node_express_session_redis_full_8c", "redis_full_8t", 10, None,
     "8 requests in flight: Node's event loop, csession's 8 threads; aggregate",
     "bare_hiredis_getset_8t"),
]
# The order of csession-bench's own table (each group's bare_* baseline
# first), then the peers; the first part of a name found decides.
ORDER = [("_signed_", 0), ("_aes_", 1), ("xchacha_key", 3), ("_xchacha_", 2),
         ("memory_", 3), ("hiredis", 4), ("redis_", 4)]


def order(name):
    if name.startswith(("node_", "python_", "apache_")):
        return (9, 0)
    rank = next((r for part, r in ORDER if part in name), 8)
    return (rank, not name.startswith("bare_"))


def read_round(path):
    figures = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                d = json.loads(line)
                figures[d["name"]] = d["ns_per_op"]
    return figures


def main(argv):
    out = None
    if len(argv) >= 2 and argv[0] == "--json":
        out, argv = argv[1], argv[2:]
    if not argv:
        sys.exit(__doc__.split("\n\n")[1])
    rounds = [read_round(p) for p in argv]
    n = len(rounds)

    names = []
    for r in rounds:
        names += [k for k in r if k not in names]
    names.sort(key=order)  # stable: otherwise as first measured
    figures = {}
    for name in names:
        xs = [r[name] for r in rounds if name in r]
        figures[name] = {"median_ns": statistics.median(xs), "min_ns": min(xs),
                         "max_ns": max(xs), "rounds": len(xs)}

    print(f"\nall figures (ns per request, median of {n} round{'s' * (n != 1)}; "
          "in-process unless said otherwise)")
    print(f"  {'':34} {'median':>13}    {'ops/s':>10}    {'min - max over rounds':^25} {'spread':>6}")
    for name, d in figures.items():
        med = d["median_ns"]
        spread = (d["max_ns"] - d["min_ns"]) / med * 100 if med else 0
        partial = f" ({d['rounds']}/{n} rounds)" if d["rounds"] != n else ""
        print(f"  {name:34} {med:>13.1f} ns {round(1e9 / med):>10} /s  "
              f"{d['min_ns']:>11.1f} - {d['max_ns']:<11.1f} {spread:>4.0f} %{partial}")

    comparisons = []
    print(f"\npeer / csession: how many times faster csession is (each ratio within "
          f"one round, csession and peer back to back; median of {n})")
    print(f"  {'peer':34} {'csession':22} {'peer ns':>11} {'csession ns':>12} "
          f"{'ratio':>8} {'min - max':>14}  target")
    limits = []
    for peer, ours, target, stretch, note, limit in PAIRS:
        ratios = [r[peer] / r[ours] for r in rounds if peer in r and ours in r and r[ours] > 0]
        c = {"peer": peer, "csession": ours, "target": target, "stretch": stretch,
             "note": note or None, "ratios": [round(x, 2) for x in ratios]}
        comparisons.append(c)
        if not ratios:
            missing = peer if peer not in figures else ours
            print(f"  {peer:34} {ours:22} {'':>11} {'':>12} {'n/a':>8} {'':>14}  "
                  f"({missing} not measured)")
            continue
        p, o = figures[peer]["median_ns"], figures[ours]["median_ns"]
        ratio = statistics.median(ratios)
        c.update(peer_median_ns=p, csession_median_ns=o, median_ratio=round(ratio, 2),
                 min_ratio=round(min(ratios), 2), max_ratio=round(max(ratios), 2))
        verdict = ""
        if target:
            met = sum(x >= target for x in ratios)
            c.update(met=ratio >= target, rounds_met=met)
            verdict = (f">= {target}x: " + ("met" if ratio >= target else "MISSED")
                       + f" (met in {met}/{len(ratios)} rounds)")
            if stretch:
                smet = sum(x >= stretch for x in ratios)
                c.update(stretch_met=ratio >= stretch, stretch_rounds_met=smet)
                verdict += (f"; stretch {stretch}x: " + ("met" if ratio >= stretch else "missed")
                            + f" ({smet}/{len(ratios)})")
        ceilings = [r[peer] / r[limit] for r in rounds
                    if limit and peer in r and limit in r and r[limit] > 0]
        if ceilings:
            ceiling = statistics.median(ceilings)
            c.update(limit=limit, limit_ratio=round(ceiling, 2),
                     reachable=(ceiling >= target) if target else None)
            limits.append((peer, limit, ceiling, target))
        extra = f"  [{note}]" if note else ""
        span = f"{min(ratios):.1f}-{max(ratios):.1f}x"
        print(f"  {peer:34} {ours:22} {p:>11.1f} {o:>12.1f} {ratio:>7.1f}x {span:>14}  "
              f"{verdict}{extra}".rstrip())

    if limits:
        print("\nthe most any session library could reach here: peer / the same Redis "
              "commands without a session (median of the per-round ratios)")
        for peer, limit, ceiling, target in limits:
            reach = ""
            if target:
                reach = (f"  the {target}x target is " +
                         ("within reach" if ceiling >= target else "beyond reach"))
            print(f"  {peer:34} / {limit:24} {ceiling:>7.1f}x{reach}")

    if out:
        with open(out, "w") as f:
            json.dump({"rounds": rounds, "figures": figures, "comparisons": comparisons},
                      f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
