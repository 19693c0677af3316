"""Run the model-based test and the bad-input campaign, and write their figures into RELIABILITY.md.

    .venv/bin/python -m tests.model.campaign                 # CI's configuration: 200 histories, seed 9
    MODEL_HISTORIES=2000 MODEL_SEED=random .venv/bin/python -m tests.model.campaign --section soak   # make soak

It runs ``pytest tests/model`` (the same tests ``make test`` runs) with ``MODEL_STATS`` pointing at a
JSON file the tests fill in (histories, faults that fired, bad inputs tried, outcomes), reads that file
and pytest's JUnit report, and rewrites its own section of RELIABILITY.md (``ci`` or ``soak``), leaving
the other one as it was. Nothing in RELIABILITY.md's sections is written by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "RELIABILITY.md"
OUTCOMES = [("duplicate", "duplicate documents (two sale documents for one order)"),
            ("lost", "lost orders (paid, not documented, not parked for a reason that still holds; write-backs "
                     "never done)"),
            ("wrong_write", "wrong writes (store quantity or status other than floor(OfficeGuy) - pending)"),
            ("books", "books that do not balance (document total, stock moved per card, credits vs refunds)"),
            ("leak", "leaked secrets (logs, XCom, ledger, reports, staging files)"),
            ("crash", "histories that did not settle")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=["ci", "soak"], default="ci")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("MODEL_HISTORIES", "2000" if args.section == "soak" else "200")
    env.setdefault("MODEL_SEED", "random" if args.section == "soak" else "9")
    out_dir = ROOT / "var" / "reliability"
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = out_dir / f"{args.section}.json"
    junit = out_dir / f"{args.section}.junit.xml"
    stats.unlink(missing_ok=True)
    env["MODEL_STATS"] = str(stats)
    shown_env = " ".join(f"{k}={env[k]}" for k in ("MODEL_HISTORIES", "MODEL_SEED") if k in env)
    cmd = [sys.executable, "-m", "pytest", "tests/model", "-p", "no:cacheprovider", "-q", f"--junitxml={junit}",
           *args.pytest_args]
    started = time.monotonic()
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    elapsed = time.monotonic() - started
    data = json.loads(stats.read_text()) if stats.exists() else {}
    tests = _junit(junit)
    command = ("make soak" if args.section == "soak" else ".venv/bin/python -m tests.model.campaign") + \
        f"   # runs: {shown_env} {' '.join(['python', *cmd[1:]]).replace(str(ROOT) + '/', '')}"
    section = render(args.section, data, tests, command=command, elapsed=elapsed, exit_code=code)
    write_section(args.doc, args.section, section)
    print(f"{args.doc}: section {args.section!r} written (pytest exit code {code}, {elapsed:.0f} s)")
    return code


def _junit(path: Path) -> dict:
    out: dict = {"passed": 0, "failed": 0, "xfailed": 0, "skipped": 0, "xfail": [], "failures": [], "durations": {}}
    if not path.exists():
        return out
    for tc in ET.parse(path).getroot().iter("testcase"):
        name = f"{tc.get('classname', '').rsplit('.', 1)[-1]}::{tc.get('name')}"
        out["durations"][name] = float(tc.get("time") or 0)
        skipped, failure = tc.find("skipped"), tc.find("failure") if tc.find("failure") is not None else tc.find("error")
        if failure is not None:
            out["failed"] += 1
            out["failures"].append(f"{name}: {(failure.get('message') or '')[:300]}")
        elif skipped is not None and skipped.get("type") == "pytest.xfail":
            out["xfailed"] += 1
            out["xfail"].append((name, (skipped.get("message") or "").replace("BUG: ", "")))
        elif skipped is not None:
            out["skipped"] += 1
        else:
            out["passed"] += 1
    return out


def _commit() -> str:
    try:
        sha = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
        dirty = subprocess.call(["git", "diff", "--quiet", "HEAD", "--", "include", "plugins", "dags", "sandbox"],
                                cwd=ROOT)
        return sha + (" + uncommitted changes in include/plugins/dags/sandbox" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render(section: str, data: dict, tests: dict, *, command: str, elapsed: float, exit_code: int) -> str:
    model = data.get("model") or {}
    bad = data.get("bad_inputs") or {}
    title = "CI run (fixed seed, part of `make test`)" if section == "ci" else "Soak run (`make soak`, fresh seed)"
    lines = [f"## {title}", "",
             f"- Command: `{command}`",
             f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}",
             f"- Wall time: {elapsed / 60:.1f} min (model test alone: "
             f"{tests['durations'].get('test_model::test_model_histories', 0) / 60:.1f} min); pytest exit code "
             f"{exit_code}: {tests['passed']} passed, {tests['xfailed']} xfailed (known defects), "
             f"{tests['failed']} failed", ""]
    if tests["failures"]:
        lines += ["Failures:", ""] + [f"- {f}" for f in tests["failures"]] + [""]
    faults = Counter(model.get("faults") or {})
    lines += ["### Histories", "",
              f"- Histories run: **{model.get('histories', 0)}** (hypothesis `max_examples` {model.get('max_examples')}, "
              f"seed {model.get('seed')} ({model.get('seed_setting')}), {model.get('steps_per_history')} steps per "
              f"history); through the real DAGs (`dag.test()`): {model.get('real_dag_histories', 0)}",
              f"- Steps: {model.get('steps', 0)}; orders placed: {model.get('orders', 0)} "
              f"({model.get('paid_orders', 0)} paid)",
              "- Flow runs: " + ", ".join(f"{k} {v}" for k, v in sorted((model.get("runs") or {}).items())),
              "- Actions: " + ", ".join(f"{k} {v}" for k, v in (model.get("actions") or {}).items()), ""]
    by_kind: Counter[str] = Counter()
    for key, n in faults.items():
        system, kind, _where = (key.split(" | ") + ["", ""])[:3]
        by_kind[f"{system} {kind}"] += n
    lines += ["### Faults injected (that fired)", "",
              f"Total: **{sum(faults.values())}**. By kind: " + ", ".join(f"{k} {v}" for k, v in by_kind.most_common()),
              "", "| system | kind | where | fired |", "|---|---|---|---:|"]
    lines += [f"| {' | '.join((k.split(' | ') + ['', ''])[:3])} | {n} |" for k, n in faults.most_common()]
    results = bad.get("results") or {}
    groups: dict[str, Counter] = {}
    for r in results.values():
        groups.setdefault(r["group"], Counter())["ok" if r["ok"] else "not"] += 1
    lines += ["", "### Bad inputs tried", "",
              f"Tried: **{len(results)}** (of {bad.get('cases', 0)} cases); reported specifically and isolated: "
              f"{sum(1 for r in results.values() if r['ok'])}; not yet (strict xfail, named below): "
              f"{sum(1 for r in results.values() if not r['ok'])}.", "",
              "| group | tried | reported and isolated | not yet |", "|---|---:|---:|---:|"]
    lines += [f"| {g} | {c['ok'] + c['not']} | {c['ok']} | {c['not']} |" for g, c in groups.items()]
    pending = [f"- `{cid}` ({r['what']}): {r['defect'] or '; '.join(r['problems'])[:200]}"
               for cid, r in results.items() if not r["ok"]]
    lines += ["", "Not yet handled:", ""] + (pending or ["- none"])
    outcomes = model.get("outcomes") or {}
    known = model.get("known") or {}
    lines += ["", "### Outcomes", "",
              "| outcome | count | of which explained by a known (xfailed) defect |", "|---|---:|---:|"]
    known_total = sum(known.values())
    for key, label in OUTCOMES:
        lines.append(f"| {label} | {outcomes.get(key, 0)} | {'' if key != 'wrong_write' else ''}"
                     f"{_known_share(model, key)} |")
    lines += ["", "Known defects behind them (violations counted per defect): "
              + (", ".join(f"{k} {v}" for k, v in sorted(known.items())) or "none") + f" (total {known_total}).",
              "", "### Known defects (strict xfail regression tests)", ""]
    lines += [f"- `{name}`: {reason}" for name, reason in tests["xfail"]] or ["- none"]
    unknown = [v for v in model.get("violations") or [] if not re.match(r"\[\w+/", v)]
    if unknown:
        lines += ["", "### Violations not explained by a known defect (the model test failed on them)", ""]
        lines += [f"- {v}" for v in unknown[:30]]
    return "\n".join(lines) + "\n"


def _known_share(model: dict, kind: str) -> int:
    return sum(1 for v in model.get("violations") or [] if re.match(rf"\[{kind}/", v))


HEADER = """# Reliability

Figures of the model-based test of the whole system and of the fault and bad-input campaign (issue 9),
written by `tests/model/campaign.py` from the run itself: nothing below a section heading is typed by
hand. The model (tests/model/world.py) drives both sandboxes and the project through random histories
(purchase orders; paid, on-hold, completed, cancelled and edited orders of simple products, variations,
parent-managed variations and a product OfficeGuy has no card for; partial and full refunds with and
without restock; merchant stock edits; stock runs, scheduled and manual orders runs with and without
`order_ids`, backfills over past windows; faults from both sandboxes, tasks killed between claim and
record, the ledger failing), lets the system settle, and checks from the sandboxes' own state: one sale
document per order (or parked for a reason that still holds), credits equal refunds, each card's
OfficeGuy stock = initial + purchases - sold + restocked, Woo = floor(OfficeGuy) - pending, and no
secret in logs, XCom, the ledger, staging files or the HTML reports.

How to read the outcomes: a violation explained by a defect that has a strict-xfail regression test
(tests/model/test_regressions.py, tests/model/test_bad_inputs.py) is counted here and does not fail
the model test; any other violation fails it, shrunk. When the lead fixes a defect its xfail turns
into a strict XPASS failure, the mark and its entry in `tests/model/test_model.py::KNOWN` go, and the
next run's counts drop.

"""


def write_section(doc: Path, section: str, text: str) -> None:
    current = doc.read_text(encoding="utf-8") if doc.exists() else HEADER
    if not current.startswith("# Reliability"):
        current = HEADER
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    block = f"{start}\n{text}{end}"
    if start in current and end in current:
        current = current[:current.index(start)] + block + current[current.index(end) + len(end):]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    head = current.index("<!--") if "<!--" in current else len(current)
    doc.write_text(HEADER + current[head:], encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
