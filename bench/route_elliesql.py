#!/usr/bin/env python3
"""EllieSQL routing on EllieSQL's own labels: routers judged on databases they never saw.

With a file that has a `split` column (train / test), that split is used; otherwise each of the
file's databases is held out in turn (trained on the others) and the held-out judgements pooled.
Pipeline costs 1 / 2 / 4 (basic / intermediate / advanced) unless COSTS says otherwise: the
publication has no token counts. Prints a Markdown table and whether the issue's targets are met:
(1) the best router ≥ 5 points above random routing at the same call mix; (2) ≥ 95 % of
always-advanced accuracy at no more than half its cost.
"""
import csv, json, os, sqlite3, subprocess, sys, tempfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
reckon = os.path.join(root, "build", "reckon")
data = os.environ.get("ELLIESQL_LABELS", os.path.join(root, "..", "shared", "data", "routing", "elliesql_bird_dev_labels_5db.csv"))
costs = os.environ.get("COSTS", "1,2,4")
# Measured costs instead: COSTS_FROM=STORE (a campaign of reckon's three SQL pipelines) and COST_MODELS, the
# stored model behind each candidate (default: reckon's pipelines on gpt-3.5-turbo, EllieSQL's backbone).
costs_from = os.environ.get("COSTS_FROM", "")
cost_models = os.environ.get("COST_MODELS", ",".join(
    f"{c}=pipeline:sql-{c}@openai:gpt-3.5-turbo" for c in ("basic", "intermediate", "advanced")))
cost_args = ["--costs-from", costs_from, "--cost-models", cost_models] if costs_from else ["--costs", costs]
routers = os.environ.get("ROUTERS", "rule,knn,softmax,cascade,logit").split(",")
lambdas = [0.0, 0.05, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5]
work = tempfile.mkdtemp()
db = os.path.join(work, "r.db")

rows = list(csv.DictReader(open(data, newline="")))
fieldnames = list(rows[0].keys())
folds = []
if "split" in fieldnames:
    folds.append(("split column", data))
else:
    for held in sorted({r["db_id"] for r in rows}):
        path = os.path.join(work, f"{held}.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fieldnames + ["split"])
            w.writeheader()
            for r in rows:
                w.writerow({**r, "split": "test" if r["db_id"] == held else "train"})
        folds.append((held, path))


def run(*args):
    return subprocess.run([reckon, *args], check=True, capture_output=True, text=True).stdout


def pooled(evals):
    n = sum(e["queries"] for e in evals)
    avg = lambda key: sum(e[key] * e["queries"] for e in evals) / n
    calls = [sum(e["calls"][k] * e["queries"] for e in evals) / n for k in range(3)]
    alone = [sum(e["candidate_accuracy"][k] * e["queries"] for e in evals) / n for k in range(3)]
    return {"accuracy": avg("accuracy"), "cost": avg("cost_per_query"), "random": avg("random_accuracy"), "calls": calls,
            "alone": alone, "oracle": avg("oracle_accuracy"), "oracle_cost": avg("oracle_cost_per_query"), "n": n}


results = {}
costs_measured = []
for router in routers:
    per_point = {}
    for name, path in folds:
        rname = f"{router}-{name}"
        trained = run("route", "train", "--outcomes", path, "--candidates", "basic,intermediate,advanced", *cost_args,
            "--text-column", "question,evidence", "--id-column", "bird_question_id", "--split-column", "split",
            "--feature-columns", "n_linked_tables,n_linked_columns", "--rule-feature", "n_linked_columns",
            "--router", router, "--name", rname, "--save-db", db)
        if costs_from and not costs_measured:
            costs_measured.append(trained.splitlines()[0])
            with sqlite3.connect(db) as con:
                saved = con.execute("SELECT params FROM routers WHERE name = ?", (rname,)).fetchone()[0]
            costs = ",".join(f"{c:.3g}" for c in json.loads(saved)["source"]["costs"])
        per_point.setdefault("own", []).append(json.loads(run("route", "eval", "--db", db, "--name", rname, "--json")))
        for lam in lambdas:
            per_point.setdefault(lam, []).append(
                json.loads(run("route", "eval", "--db", db, "--name", rname, "--json", "--lambda", str(lam))))
    results[router] = {k: pooled(v) for k, v in per_point.items()}

any_point = next(iter(next(iter(results.values())).values()))
alone, cost = any_point["alone"], [float(c) for c in costs.split(",")]
adv_acc, adv_cost = alone[2], cost[2]
if costs_measured:
    print(costs_measured[0] + "\n")
print(f"Held out: {', '.join(n for n, _ in folds)} ({any_point['n']} questions). Alone: basic {100*alone[0]:.1f} %, "
      f"intermediate {100*alone[1]:.1f} %, advanced {100*alone[2]:.1f} % (costs {costs}); oracle "
      f"{100*any_point['oracle']:.1f} % at {any_point['oracle_cost']:.3g}.\n")
# The ceiling of target 1 on this data: a router that knew exactly which questions basic solves (and
# sent the rest to advanced) — worked out from the labels alone, no router involved.
held = [r for r in rows if "split" not in fieldnames or r["split"] == "test"]
basic_ok = sum(r["label"] == "1" for r in held) / len(held)
ceiling_acc = sum(r["label"] in "123" for r in held) / len(held)
ceiling_random = basic_ok * alone[0] + (1 - basic_ok) * alone[2]
print(f"Ceiling: knowing exactly which questions basic solves → {100*ceiling_acc:.1f} % at "
      f"{basic_ok*cost[0] + (1-basic_ok)*cost[2]:.3g}, random at that mix {100*ceiling_random:.1f} % "
      f"(gain {100*(ceiling_acc-ceiling_random):+.1f} points).\n")
print("| router | operating point | accuracy | cost/query | calls b/i/a | random, same mix | gain | % of advanced |")
print("|---|---|---|---|---|---|---|---|")
best_gain, best_cheap = None, None
for router, pts in results.items():
    for key, p in pts.items():
        gain = 100 * (p["accuracy"] - p["random"])
        share = p["accuracy"] / adv_acc
        label = "own threshold" if key == "own" else f"λ = {key}"
        print(f"| {router} | {label} | {100*p['accuracy']:.1f} % | {p['cost']:.3g} | "
              + "/".join(f"{100*c:.0f}" for c in p["calls"]) + f" % | {100*p['random']:.1f} % | {gain:+.1f} | {100*share:.1f} % |")
        if best_gain is None or gain > best_gain[0]:
            best_gain = (gain, router, label)
        if p["cost"] <= adv_cost / 2 + 1e-9 and (best_cheap is None or share > best_cheap[0]):
            best_cheap = (share, router, label, p["cost"])
print()
print(f"Target 1 (≥ 5 points over random at the same mix): best {best_gain[0]:+.1f} ({best_gain[1]}, {best_gain[2]}) — "
      + ("met" if best_gain[0] >= 5 else "MISSED"))
if best_cheap:
    print(f"Target 2 (≥ 95 % of advanced at ≤ half its cost): best {100*best_cheap[0]:.1f} % at {best_cheap[3]:.3g} "
          f"({best_cheap[1]}, {best_cheap[2]}) — " + ("met" if best_cheap[0] >= 0.95 else "MISSED"))
else:
    print("Target 2: no routed point within half of advanced's cost — MISSED")
