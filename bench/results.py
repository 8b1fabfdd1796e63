"""bench/results.json: every benchmark records its figures here, and `make bench` prints them.

A benchmark script calls ``record("section", {"key": value, ...})`` after it has measured; the
figures are merged into bench/results.json (written atomically) under that section, with the
machine and time of the run. ``TARGETS`` holds issue 12's targets; ``table()`` prints every
recorded key with its target and whether it is met.

Keys are dotted in the issue (``intake.ratio_to_limit``); in the file they are nested
(``{"intake": {"ratio_to_limit": 0.31}}``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"

# key -> (comparison, target). ">=" means higher is better.
TARGETS: dict[str, tuple[str, float]] = {
    "intake.ratio_to_limit": (">=", 0.2),
    "intake.ratio_to_peer": (">=", 2.0),
    "intake.p99_ms": ("<", 100.0),
    "intake.flatness": (">=", 0.9),
    "ranking.ms": ("<=", 500.0),
    "ranking.ratio_to_sql": ("<=", 1.5),
    "dashboards.max_ms": ("<=", 500.0),
    "workbench.ms": ("<=", 500.0),
    "workbench.ratio_to_sql": ("<=", 1.5),
    "import.rows_per_s": (">=", 20000.0),
    "hotspots.seconds": ("<=", 60.0),
    "generate.seconds_per_million": ("<=", 600.0),
}


def machine() -> str:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 0
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        pass
    return (
        f"{cpus} vCPU {model}, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def load() -> dict:
    try:
        return json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(section: str, figures: dict, *, note: str = "") -> None:
    """Merge ``figures`` into ``section`` of bench/results.json (atomic replace)."""
    data = load()
    entry = dict(data.get(section) or {})
    entry.update(figures)
    entry["measured_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry["machine"] = machine()
    # what else ran: a shared machine's load at the end of the measurement (1, 5 and 15 minutes)
    if "load_average" not in figures:
        entry["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if note:
        entry["note"] = note
    data[section] = entry
    fd, tmp = tempfile.mkstemp(dir=RESULTS.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, RESULTS)


def _met(value: float, cmp: str, target: float) -> bool:
    return {">=": value >= target, "<=": value <= target, "<": value < target, ">": value > target}[cmp]


def table(data: dict | None = None) -> str:
    data = load() if data is None else data
    rows = []
    for section in sorted(data):
        for key, value in sorted(data[section].items()):
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            dotted = f"{section}.{key}"
            target = TARGETS.get(dotted)
            verdict = ""
            goal = ""
            if target:
                goal = f"{target[0]} {target[1]:g}"
                verdict = "met" if _met(value, *target) else "MISSED"
            rows.append(
                (dotted, f"{value:,.2f}" if isinstance(value, float) else f"{value:,}", goal, verdict)
            )
    missing = [
        k for k in TARGETS if k.split(".")[0] not in data or k.split(".", 1)[1] not in data[k.split(".")[0]]
    ]
    rows += [(k, "not measured", f"{TARGETS[k][0]} {TARGETS[k][1]:g}", "MISSING") for k in missing]
    width = max((len(r[0]) for r in rows), default=10)
    lines = [f"{'figure':<{width}}  {'value':>14}  {'target':>10}  verdict", "-" * (width + 40)]
    lines += [f"{a:<{width}}  {b:>14}  {c:>10}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
