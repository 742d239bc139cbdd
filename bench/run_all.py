"""Run every benchmark on SQLite and on PostgreSQL and write bench/RESULTS.md and plots.

Each script runs as its own process, as you would run it by hand: bench/sync.py,
bench/brief.py, bench/push.py (when present), bench/pwa.py and bench/lighthouse.py
(SQLite only: they have no PostgreSQL mode) and bench/load.py. The cheap ones run a
few times; every figure is given as the median over those repetitions with their
spread (min–max); a figure from a single run says n=1. Figures come from each script's
`--json` output where it has one, else from its printed table. A script that fails is
reported as failed, with the end of its output, and the others still run.

    .venv/bin/python bench/run_all.py                       # what `make bench` runs
    .venv/bin/python bench/run_all.py --database-url postgresql://user@host:5432/postgres
    .venv/bin/python bench/run_all.py --quick               # one repetition, short loads

PostgreSQL: --database-url, else BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres; every script makes its own uniquely named
database on that server and drops it after. Writes bench/RESULTS.md and bench/plots/*.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PLOTS = BENCH / "plots"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")
PACED_RATES = (2, 3, 4)  # requests/s per user for the paced PostgreSQL runs at 50 users
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "none": "no database"}


# -- running -----------------------------------------------------------------------------


class Runner:
    def __init__(self, work: Path, python: str):
        self.work, self.python = work, python
        self.log: list[dict] = []  # every script run: name, backend, seconds, ok, tail

    def run(self, script: str, backend: str, args: list[str], timeout: int) -> dict | None:
        """Run bench/<script>.py once; its stdout, and its --json if asked for."""
        n = sum(1 for r in self.log if r["script"] == script and r["backend"] == backend)
        json_path = self.work / f"{script}_{backend}_{n}.json"
        args = [a.replace("{json}", str(json_path)) for a in args]
        command = [self.python, str(BENCH / f"{script}.py"), *args]
        label = f"{script} on {NAMES[backend]} #{n + 1}"
        print(f"[{time.strftime('%H:%M:%S')}] {label} ...", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=timeout
            )
            ok, out, err = done.returncode == 0, done.stdout, done.stderr
            if not ok:
                err = f"exit status {done.returncode}\n{err}"
        except subprocess.TimeoutExpired as exc:
            ok = False
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = f"timed out after {timeout} s"
        seconds = time.monotonic() - started
        (self.work / f"{script}_{backend}_{n}.out").write_text(out + "\n--- stderr ---\n" + err)
        entry = {
            "script": script,
            "backend": backend,
            "seconds": seconds,
            "ok": ok,
            "tail": "" if ok else "\n".join((out + "\n" + err).strip().splitlines()[-15:]),
        }
        self.log.append(entry)
        print(f"    {'done' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
        if not ok:
            return None
        data = None
        if json_path.exists():
            data = json.loads(json_path.read_text())
        return {"stdout": out, "json": data}


def has_flag(script: str, flag: str) -> bool:
    return flag in (BENCH / f"{script}.py").read_text()


def db_args(backend: str, url: str) -> list[str]:
    return ["--database-url", url] if backend == "postgresql" else []


# -- what each script gave ---------------------------------------------------------------


def parse_push(stdout: str) -> dict:
    """bench/push.py prints a table and CPU-per-message lines; it has no --json."""
    rows = []
    pattern = re.compile(
        r"^\s*(\d+)ms\s+(\d+)\s+([\d.]+|nan)\s+([\d.]+|nan)\s+\S+\s+(\d+)/(\d+)\s+([\d.]+)"
    )
    for line in stdout.splitlines():
        m = pattern.match(line)
        if m:
            rows.append(
                {
                    "latency_ms": int(m[1]),
                    "workers": int(m[2]),
                    "rate": float(m[3]),
                    "per_worker": float(m[4]),
                    "sent": int(m[5]),
                    "received": int(m[6]),
                    "materialise": float(m[7]),
                }
            )
    ceiling = re.search(r"ceiling:\s+([\d.]+)", stdout)
    # CPU per message beside Node's web-push, same fake push service, same run
    cpu = [
        {
            "name": m[1].strip(),
            "ms": float(m[2]),
            "per_core": float(m[3]),
            "ratio": float(m[4]) if m[4] else None,
        }
        for m in re.finditer(
            r"^\s+cpu (.+?)\s+([\d.]+) ms/msg\s+(\d+) msg/s/core\s+(?:([\d.]+)x web-push)?",
            stdout,
            re.M,
        )
    ]
    return {"rows": rows, "ceiling": float(ceiling[1]) if ceiling else None, "cpu": cpu}


def parse_pwa(stdout: str) -> dict:
    """bench/pwa.py prints its figures; it has no --json (another engineer's, in progress)."""
    figures = {}
    for m in re.finditer(r"^\s+([a-z][a-z ]+?)\s+(\d+)\s+\((\d+)–(\d+)\)", stdout, re.M):
        figures[m[1].strip()] = {"median": int(m[2]), "min": int(m[3]), "max": int(m[4])}
    sizes = {}
    for label, key in (("with the service worker", "shell_kb"), ("what pages load", "pages_kb")):
        m = re.search(rf"{label}\s+([\d.]+) KB", stdout)
        if m:
            sizes[key] = float(m[1])
    runs = re.search(r"median of (\d+) runs", stdout)
    return {"figures": figures, "sizes": sizes, "runs": int(runs[1]) if runs else None}


# -- statistics --------------------------------------------------------------------------


def summary(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def fmt(s: dict | None, digits: int = 1, unit: str = "") -> str:
    """median (min–max, n=N)"""
    if not s:
        return "—"
    f = f"{{:,.{digits}f}}"
    if s["n"] == 1:
        return f"{f.format(s['median'])}{unit} (n=1)"
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])}, n={s['n']})"


# -- the machine -------------------------------------------------------------------------


def busy_cores(seconds: float = 5.0) -> float:
    """How many cores something was keeping busy, over a few seconds."""

    def ticks():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return sum(fields), fields[3] + fields[4]

    total0, idle0 = ticks()
    time.sleep(seconds)
    total1, idle1 = ticks()
    total = total1 - total0
    return (os.cpu_count() or 1) * (total - (idle1 - idle0)) / total if total else 0.0


def machine(pg_url: str) -> dict:
    info = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.+)", cpuinfo)[1].strip()
    except (OSError, TypeError):
        info["cpu"] = platform.processor() or "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
        info["memory_gb"] = kb / 1024 / 1024
    except (OSError, TypeError):
        info["memory_gb"] = None
    try:
        sys.path.insert(0, str(ROOT))
        import sqlalchemy as sa

        from config.settings import normalise_database_url

        engine = sa.create_engine(normalise_database_url(pg_url))
        with engine.connect() as conn:
            info["postgresql"] = conn.execute(sa.text("SHOW server_version")).scalar()
        engine.dispose()
    except Exception as exc:  # reported, not fatal: the PostgreSQL runs will fail too
        info["postgresql"] = f"unreachable ({type(exc).__name__})"
    return info


# -- plots -------------------------------------------------------------------------------


def plot_all(results: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    made = []

    def errorbar(ax, xs, summaries, label, marker="o"):
        pts = [(x, s) for x, s in zip(xs, summaries, strict=True) if s]
        if not pts:
            return
        x = [p[0] for p in pts]
        y = [p[1]["median"] for p in pts]
        lo = [p[1]["median"] - p[1]["min"] for p in pts]
        hi = [p[1]["max"] - p[1]["median"] for p in pts]
        ax.errorbar(x, y, yerr=[lo, hi], marker=marker, capsize=3, label=label)

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(PLOTS / name, dpi=110)
        plt.close(fig)
        made.append(name)

    sync = results.get("sync", {})
    if any(sync.get(b) for b in BACKENDS):
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
        for b in BACKENDS:
            rows = sync.get(b) or []
            xs = [r["entries"] for r in rows]
            errorbar(left, xs, [r["delta"] for r in rows], f"empty delta pull, {NAMES[b]}")
            errorbar(left, xs, [r["push"] for r in rows], f"push of 100 ops, {NAMES[b]}", "s")
            errorbar(right, xs, [r["pull_s"] for r in rows], f"full first pull, {NAMES[b]}")
        left.set(
            xscale="log",
            yscale="log",
            xlabel="journal entries in the history",
            ylabel="ms (median, min–max)",
            title="Sync delta pull and push vs history",
        )
        right.set(
            xscale="log",
            yscale="log",
            xlabel="journal entries in the history",
            ylabel="seconds",
            title="Full first pull (pages of 500) vs history",
        )
        left.legend(fontsize=8)
        right.legend(fontsize=8)
        save(fig, "sync_vs_history.png")

    brief = results.get("brief", {})
    if any(brief.get(b) for b in BACKENDS):
        fig, ax = plt.subplots(figsize=(6, 4.2))
        for b in BACKENDS:
            rows = (brief.get(b) or {}).get("brief") or []
            errorbar(ax, [r["size"] for r in rows], [r["ms"] for r in rows], NAMES[b])
        ax.set(
            xlabel="years of daily history",
            ylabel="ms (median, min–max)",
            title="Pre-session brief vs history",
            ylim=(0, None),
        )
        ax.legend()
        save(fig, "brief_vs_years.png")

        fig, ax = plt.subplots(figsize=(6, 4.2))
        for b in BACKENDS:
            rows = [r for r in (brief.get(b) or {}).get("caseload") or [] if r["plain"]]
            errorbar(ax, [r["size"] for r in rows], [r["ms"] for r in rows], NAMES[b])
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="linked patients",
            ylabel="ms (median, min–max)",
            title="Caseload vs patients",
        )
        ax.legend()
        save(fig, "caseload_vs_patients.png")

    push = results.get("push", {})
    if any((push.get(b) or {}).get("rows") for b in BACKENDS):
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
        for b in BACKENDS:
            rows = (push.get(b) or {}).get("rows") or []
            for workers in sorted({r["workers"] for r in rows}):
                mine = sorted(
                    (r for r in rows if r["workers"] == workers), key=lambda r: r["latency_ms"]
                )
                label = f"{NAMES[b]}, {workers} worker{'s' if workers > 1 else ''}"
                latency = [r["latency_ms"] for r in mine]
                left.plot(latency, [r["rate"] for r in mine], marker="o", label=label)
                right.plot(latency, [r["per_worker"] for r in mine], marker="o", label=label)
        right.axhline(400, color="grey", linestyle="--", linewidth=1, label="goal: 400/s")
        left.set(
            xlabel="push service latency (ms)",
            ylabel="messages/s, all workers (n=1)",
            title="Web Push delivery vs push-service latency",
            ylim=(0, None),
        )
        right.set(
            xlabel="push service latency (ms)",
            ylabel="messages/s per worker (n=1)",
            title="Per worker, against the goal",
            ylim=(0, None),
        )
        left.legend(fontsize=8)
        right.legend(fontsize=8)
        save(fig, "push_rate_vs_latency.png")

    load = results.get("load", {})
    if any(load.get(b) for b in BACKENDS):
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
        for b in BACKENDS:
            runs = (load.get(b) or {}).get("runs") or []
            users = [r["users"] for r in runs]
            agg = [r["routes"].get("all", {}) for r in runs]
            left.plot(users, [a.get("rps") for a in agg], marker="o", label=NAMES[b])
            for key, style in (("p50", ":"), ("p95", "-"), ("p99", "--")):
                right.plot(
                    users,
                    [a.get(key) for a in agg],
                    marker="o",
                    linestyle=style,
                    label=f"{key}, {NAMES[b]}",
                )
        left.axhline(500, color="grey", linestyle="--", linewidth=1, label="target at 50 users")
        right.axhline(100, color="grey", linestyle="--", linewidth=1, label="p95 target")
        left.set(
            xlabel="concurrent users",
            ylabel="requests/s (n=1)",
            title="Mixed load: throughput",
            ylim=(0, None),
        )
        right.set(xlabel="concurrent users", ylabel="ms", yscale="log", title="Mixed load: latency")
        left.legend(fontsize=8)
        right.legend(fontsize=7)
        save(fig, "load_vs_users.png")
    return made


# -- the report --------------------------------------------------------------------------


def collect(raw: dict) -> dict:
    """Per backend, each script's repetitions folded into median and spread."""
    results: dict = {
        "sync": {},
        "brief": {},
        "push": {},
        "pwa": {},
        "lighthouse": {},
        "load": {},
        "paced": {},
    }
    results["locust_check"] = None
    for b in BACKENDS:
        reps = [r["json"] for r in raw["sync"].get(b, []) if r and r["json"]]
        if reps:
            sizes = [row["entries"] for row in reps[0]]
            results["sync"][b] = [
                {
                    "entries": size,
                    "delta": summary([statistics.median(rep[i]["delta"]) for rep in reps]),
                    "push": summary([statistics.median(rep[i]["push"]) for rep in reps]),
                    "pull_s": summary([rep[i]["pull_s"] for rep in reps]),
                    "pages": reps[0][i]["pages"],
                    "delta_q": reps[0][i].get("delta_q"),
                    "push_q": reps[0][i].get("push_q"),
                    "pull_q": reps[0][i].get("pull_q"),
                }
                for i, size in enumerate(sizes)
            ]
        reps = [r["json"] for r in raw["brief"].get(b, []) if r and r["json"]]
        if reps:
            folded = {}
            for kind in ("caseload", "brief"):
                folded[kind] = [
                    {
                        **{k: v for k, v in reps[0][kind][i].items() if k not in ("ms", "seed_s")},
                        "ms": summary([statistics.median(rep[kind][i]["ms"]) for rep in reps]),
                        "plain": "y daily" not in str(reps[0][kind][i].get("history", "")),
                    }
                    for i in range(len(reps[0][kind]))
                ]
            results["brief"][b] = folded
        reps = [r for r in raw["push"].get(b, []) if r]
        if reps:
            results["push"][b] = parse_push(reps[0]["stdout"]) | {"stdout": reps[0]["stdout"]}
        reps = [r for r in raw["pwa"].get(b, []) if r]
        if reps:
            results["pwa"][b] = parse_pwa(reps[0]["stdout"])
        reps = [r["json"] for r in raw["lighthouse"].get(b, []) if r and r["json"]]
        if reps:
            results["lighthouse"][b] = reps[0]
        reps = [r["json"] for r in raw["load"].get(b, []) if r and r["json"]]
        if reps:
            results["load"][b] = reps[0]
        reps = [r["json"] for r in raw.get("paced", {}).get(b, []) if r and r["json"]]
        if reps:
            results["paced"][b] = reps
    checks = [r["json"] for r in raw.get("locust_check", {}).get("none", []) if r and r["json"]]
    results["locust_check"] = checks[0] if checks else None
    return results


def ms(value) -> str:
    return "—" if value is None else f"{value:,.0f}"


def load_verdicts(load: dict) -> list[str]:
    """Issue 20's targets for the API, each met or not, with the figure."""
    lines = []
    pg = load.get("postgresql")
    run50 = next((r for r in (pg or {}).get("runs", []) if r["users"] == 50), None)
    if run50:
        agg = run50["routes"]["all"]
        met = agg["rps"] >= 400 and (agg["p95"] or 1e9) < 100
        lines.append(
            f"- **≥ 400 mixed requests/s at 50 users with p95 < 100 ms on PostgreSQL: "
            f"{'met' if met else 'NOT met'}** — {agg['rps']:.0f} requests/s, "
            f"p95 {ms(agg['p95'])} ms."
        )
    else:
        lines.append("- 400 requests/s at 50 users on PostgreSQL: not measured (no run).")
    mix = (pg or {}).get("mix_cpu_ms", {})
    if mix:
        cpu = statistics.median(mix.values())
        lines.append(
            f"- **≤ 3.5 ms of app CPU per request of the mix on PostgreSQL: "
            f"{'met' if cpu <= 3.5 else 'NOT met'}** — {cpu:.1f} ms (in-process estimate)."
        )
    ratio = (pg or {}).get("ratio")
    if ratio:
        met = ratio["ratio_in_process"] <= 4
        lines.append(
            f"- **A 200-row pull ≤ 4× the bare SQL on PostgreSQL: {'met' if met else 'NOT met'}**"
            f" — {ratio['ratio_in_process']:.1f}× in-process, {ratio['ratio_http']:.1f}× "
            "through gunicorn and HTTP."
        )
    for b in BACKENDS:
        run200 = next((r for r in (load.get(b) or {}).get("runs", []) if r["users"] == 200), None)
        if not run200:
            lines.append(f"- No errors at 200 users on {NAMES[b]}: not measured (no run).")
            continue
        failed = run200["routes"]["all"]["failures"]
        fivexx = sum(run200["server"]["fivexx"].values())
        lines.append(
            f"- **No errors at 200 users on {NAMES[b]}: {'met' if not failed else 'NOT met'}**"
            f" — {failed:,} failed requests of {run200['routes']['all']['requests']:,}; "
            f"{fivexx:,} 5xx answers in the server's log."
        )
    return lines


def why_short(load: dict) -> list[str]:
    """The arithmetic behind the throughput, from what load.py measured."""
    lines = []
    for b in BACKENDS:
        data = load.get(b)
        if not data or "costs" not in data:
            continue
        cores = os.cpu_count() or 2
        for run in data["runs"]:
            cpu, agg = run["cpu"], run["routes"]["all"]
            per_request = cpu["web"] / agg["requests"] * 1000 if agg["requests"] else None
            mix = data["mix_cpu_ms"].get(str(run["users"]))
            wall = cpu["wall"] or 1
            lines.append(
                f"- {NAMES[b]}, {run['users']} users: gunicorn used "
                f"{cpu['web'] / wall:.2f} cores, PostgreSQL (all databases on the server) "
                f"{cpu['postgres'] / wall:.2f}, locust {cpu['locust'] / wall:.2f}, other "
                f"processes on the machine {max(cpu['other'], 0) / wall:.2f} (of {cores}); "
                f"{ms(per_request and per_request)} ms of gunicorn CPU per request "
                f"(in-process estimate for this mix: {mix:.1f} ms), so all {cores} cores "
                f"for gunicorn alone would give at most "
                f"{cores * 1000 / per_request if per_request else 0:,.0f} requests/s."
            )
    return lines


def missing(script: str, runner: Runner) -> str:
    if not (BENCH / f"{script}.py").exists():
        return f"bench/{script}.py is not there"
    if not any(r["script"] == script for r in runner.log):
        return f"bench/{script}.py was not run this time (--only)"
    return f"bench/{script}.py failed (see the run log below)"


def write_report(
    results: dict, info: dict, runner: Runner, started: datetime, plots: list[str], args
) -> str:
    elapsed = (datetime.now(UTC) - started).total_seconds()
    out = []
    w = out.append
    w("# Benchmark results\n")
    w(
        f"Written by `bench/run_all.py` (`make bench`) on {started:%Y-%m-%d %H:%M} UTC, "
        f"in {elapsed / 60:.1f} minutes. Every figure is the median over the repetitions "
        "with their spread (min–max) and n; one run is marked n=1. Benchmarks, not tests: "
        "nothing here is asserted.\n"
    )
    w("## Machine\n")
    w(f"- {info['cores']} cores ({info.get('cpu')}), {info['memory_gb']:.1f} GB memory")
    w(f"- Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL {info['postgresql']}")
    w(f"- {info['platform']}")
    busy = max(info["busy_before"], info["busy_after"])
    if busy > 0.2:
        w(
            f"- **A shared, loaded machine**: something else kept "
            f"{info['busy_before']:.2f} of {info['cores']} cores busy before the first "
            f"benchmark and {info['busy_after']:.2f} after the last; load average "
            f"{info['loadavg_before']} before, {info['loadavg_after']} after. Absolute times "
            "here are pessimistic and noisy; compare figures within one run, and the "
            "CPU-per-request figures below, which depend much less on what else runs.\n"
        )
    else:
        w(
            f"- **A quiet machine**: nothing else kept it busy ({info['busy_before']:.2f} of "
            f"{info['cores']} cores before the first benchmark, {info['busy_after']:.2f} after "
            f"the last; the load average after, {info['loadavg_after']}, is the benchmarks' "
            "own). It is a virtual machine: its speed still varies from hour to hour, so "
            "compare figures within one run, and the CPU-per-request figures.\n"
        )
    w("## Headline: mixed load and the sync pull\n")
    load = results["load"]
    if not any(load.values()):
        w(f"Not measured: {missing('load', runner)}.\n")
    w(
        "bench/load.py: gunicorn as the Procfile starts it (gthread, "
        + ", ".join(
            f"{NAMES[b]}: {d['workers']} workers x {d['threads']} threads"
            for b, d in load.items()
            if d
        )
        + ", BETWEEN_ENV=production) on 127.0.0.1; locust headless, each user at most "
        + ", ".join(f"{d['rate_per_user']:g}" for d in list(load.values())[:1] if d)
        + " requests/s (so 50 users offer 500/s); runs of "
        + ", ".join(f"{d['seconds']}" for d in list(load.values())[:1] if d)
        + " s after all users started; latencies as the client saw them (ms), n=1 run each.\n"
    )
    w("| backend | users | requests/s | p50 | p95 | p99 | failed / requests | 5xx in server log |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for b in BACKENDS:
        for run in (load.get(b) or {}).get("runs", []):
            agg = run["routes"]["all"]
            w(
                f"| {NAMES[b]} | {run['users']} | {agg['rps']:,.0f} | {ms(agg['p50'])} | "
                f"{ms(agg['p95'])} | {ms(agg['p99'])} | {agg['failures']:,} / "
                f"{agg['requests']:,} | {sum(run['server']['fivexx'].values()):,} |"
            )
    w("")
    w("![load](plots/load_vs_users.png)\n")
    w(
        "Sync pull against its bare query: GET /api/v1/sync/changes?limit=200 (the first "
        "200 of a patient's 1,000 journal entries) against the bare SELECT of the same rows "
        "(a raw SQLAlchemy select sent straight to the driver, rows as stored), on the same "
        "database; the steps between show where the time goes.\n"
    )
    w("| step | " + " | ".join(f"{NAMES[b]} ms (min) | × bare" for b in BACKENDS) + " |")
    w("|---|" + "---:|---:|" * len(BACKENDS))
    steps = next((d["ratio"]["steps"] for d in load.values() if d and "ratio" in d), {})
    for step in steps:
        cells = []
        for b in BACKENDS:
            s = ((load.get(b) or {}).get("ratio") or {}).get("steps", {}).get(step)
            cells.append(
                f"{s['median_ms']:.1f} ({s['min_ms']:.1f}) | {s['x_bare']:.1f}" if s else "— | —"
            )
        w(f"| {step} | " + " | ".join(cells) + " |")
    w("")
    for b in BACKENDS:
        r = (load.get(b) or {}).get("ratio")
        if r:
            w(
                f"- **{NAMES[b]}: the API's time for a sync pull is {r['ratio_http']:.1f}× the "
                f"bare query** (median of {r['repeats']} each; in-process, without HTTP and "
                f"gunicorn, {r['ratio_in_process']:.1f}×; against SQLAlchemy's Core select of "
                f"the table, whose column types decrypt and convert, "
                f"{r.get('ratio_http_core', float('nan')):.1f}×)."
            )
    w("")
    w("### Targets\n")
    out.extend(load_verdicts(load))
    paced = results.get("paced", {}).get("postgresql") or []
    if paced:
        w("")
        w(
            "Paced, below saturation: 50 users on PostgreSQL, each at most the given rate, "
            "so what is offered is less than the machine served above; client-side ms as "
            "locust saw them, and the app's own time from its request log (n=1 run each):\n"
        )
        w(
            "| offered requests/s | served requests/s | client p50 | client p95 | client p99 "
            "| app p50 | app p95 | failed / requests |"
        )
        w("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for data in paced:
            for run in data["runs"]:
                agg, server = run["routes"]["all"], run["server"]
                offered = run["users"] * data["rate_per_user"]
                w(
                    f"| {offered:,.0f} | {agg['rps']:,.0f} | {ms(agg['p50'])} | "
                    f"{ms(agg['p95'])} | {ms(agg['p99'])} | {server['server_p50_ms']} | "
                    f"{server['server_p95_ms']} | {agg['failures']:,} / {agg['requests']:,} |"
                )
        check = results.get("locust_check")
        if check:
            lo, th = check["locust"], check["threads"]
            w(
                f"\nHow much of that is locust's own (bench/locust_check.py): the same gunicorn "
                f"serving a stub that only burns {check['cpu_ms']:g} ms of CPU per request, "
                f"{check['users']} users at {check['rate']:g} requests/s each. From locust: "
                f"p50 {lo['p50']:.0f} ms, p95 {lo['p95']:.0f} ms; from plain client threads "
                f"on the same schedule: p50 {th['p50']:.0f} ms, p95 {th['p95']:.0f} ms. The "
                "server did the same work both times, so on this machine most of the gap "
                "between locust's times and the app's own is the load generator's."
            )
    w("")
    w("### Where the time goes\n")
    w(
        "What each kind of request costs, in-process and one at a time on an idle app "
        "(median wall ms, mean CPU ms of the app's process, SQL statements); on SQLite the "
        "CPU includes SQLite's own work, on PostgreSQL the server's work is elsewhere:\n"
    )
    kinds = next((list(d["costs"]) for d in load.values() if d and "costs" in d), [])
    w("| request | " + " | ".join(f"{NAMES[b]} wall / CPU / stmts" for b in BACKENDS) + " |")
    w("|---|" + "---:|" * len(BACKENDS))
    for kind in kinds:
        cells = []
        for b in BACKENDS:
            c = ((load.get(b) or {}).get("costs") or {}).get(kind)
            cells.append(f"{c['wall_ms']:.1f} / {c['cpu_ms']:.1f} / {c['stmts']:.0f}" if c else "—")
        w(f"| {kind} | " + " | ".join(cells) + " |")
    w("")
    out.extend(why_short(load))
    pg = load.get("postgresql")
    if pg and "costs" in pg and "50" in pg.get("mix_cpu_ms", {}):
        cores = os.cpu_count() or 2
        costs = pg["costs"]
        w(
            f"- The target, 400 requests/s on {cores} cores, leaves {cores * 1000 / 400:.0f} ms "
            f"of CPU per request for everything: the app, PostgreSQL and the load generator. "
            f"The app alone spends {pg['mix_cpu_ms']['50']:.1f} ms of CPU per request of this "
            f"mix in-process on PostgreSQL, before HTTP and gunicorn. In this mix it sends "
            f"{costs['pull']['stmts']:.0f} SQL statements for a pull (new entries and "
            f"check-ins: one page statement per type), {costs['write entry']['stmts']:.0f} for "
            f"a new shared entry (its `share` audit event is one) and "
            f"{costs['push']['stmts']:.0f} for a push of two new entries; "
            "tests/api/test_statement_counts.py pins each hot request's count."
        )
        floor = costs.get("floor: signed-in 404")
        run50 = next((r for r in pg["runs"] if r["users"] == 50), None)
        if floor and run50 and run50["routes"]["all"]["requests"]:
            n = run50["routes"]["all"]["requests"]
            w(
                f"- The floor: a signed-in request that does no work at all (a 404: the "
                f"session lookup, the request hooks, the JSON log line and a JSON answer) "
                f"costs {floor['cpu_ms']:.1f} ms of app CPU in-process, "
                f"{costs['floor: anonymous 404']['cpu_ms']:.1f} ms without the session. In "
                f"the 50-user run, each request also cost "
                f"{run50['cpu']['postgres'] / n * 1000:.1f} ms of PostgreSQL CPU and "
                f"{run50['cpu']['locust'] / n * 1000:.1f} ms of locust CPU, on the same "
                f"{cores} cores."
            )
    w("")
    w("### Errors under load\n")
    any_error = False
    for b in BACKENDS:
        for run in (load.get(b) or {}).get("runs", []):
            items = [
                f"  - client: {f['count']:,} × {f['route']}: `{f['error']}`"
                for f in run["failures"]
            ]
            items += [
                f"  - server 5xx: {n:,} × {what}, answered after "
                f"{run['server'].get('fivexx_ms', {}).get(what, 0):,.0f} ms (median)"
                for what, n in run["server"]["fivexx"].items()
            ]
            items += [
                f"  - server exception: {n:,} × `{what}`"
                for what, n in run["server"]["exceptions"].items()
            ]
            items += [
                f"  - gunicorn: {n:,} × `{what}`" for what, n in run["server"]["gunicorn"].items()
            ]
            if items:
                any_error = True
                w(f"- {NAMES[b]}, {run['users']} users:")
                out.extend(items)
    if not any_error and any(load.values()):
        w("None: no failed request, no 5xx, no exception or worker error in the server log.")
    w("")
    w("Per route (client-side ms):\n")
    w("| backend | users | route | requests | failed | req/s | p50 | p95 | p99 |")
    w("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for b in BACKENDS:
        for run in (load.get(b) or {}).get("runs", []):
            for name, r in sorted(run["routes"].items()):
                if name == "all":
                    continue
                w(
                    f"| {NAMES[b]} | {run['users']} | {name} | {r['requests']:,} | "
                    f"{r['failures']:,} | {r['rps']:.1f} | {ms(r['p50'])} | {ms(r['p95'])} | "
                    f"{ms(r['p99'])} |"
                )
    w("")

    w("## Sync: pull and push vs history (bench/sync.py)\n")
    w(
        "In-process (Flask test client). Empty delta pull and a push of 100 new-entry ops: "
        "ms, each repetition's median over its requests, then median (min–max) over "
        "repetitions. Full first pull: seconds, paged by 500.\n"
    )
    if not any(results["sync"].values()):
        w(f"Not measured: {missing('sync', runner)}.\n")
    w("| backend | entries | empty delta ms | stmts | push 100 ms | stmts | full pull s | pages |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for b in BACKENDS:
        for r in results["sync"].get(b) or []:
            w(
                f"| {NAMES[b]} | {r['entries']:,} | {fmt(r['delta'], 2)} | {r['delta_q']} | "
                f"{fmt(r['push'], 0)} | {r['push_q']} | {fmt(r['pull_s'], 2)} | {r['pages']} |"
            )
    w("")
    w("![sync](plots/sync_vs_history.png)\n")

    w("## Caseload and brief (bench/brief.py)\n")
    w("ms per request: each repetition's median, then median (min–max) over repetitions.\n")
    if not any(results["brief"].values()):
        w(f"Not measured: {missing('brief', runner)}.\n")
    w("| backend | patients | history each | caseload ms | stmts |")
    w("|---|---:|---|---:|---:|")
    for b in BACKENDS:
        for r in (results["brief"].get(b) or {}).get("caseload", []):
            stmts = "/".join(map(str, r.get("stmts", [])))
            w(f"| {NAMES[b]} | {r['size']} | {r.get('history', '')} | {fmt(r['ms'])} | {stmts} |")
    w("")
    w("| backend | years | entries | check-ins | brief ms | stmts |")
    w("|---|---:|---:|---:|---:|---:|")
    for b in BACKENDS:
        for r in (results["brief"].get(b) or {}).get("brief", []):
            stmts = "/".join(map(str, r.get("stmts", [])))
            w(
                f"| {NAMES[b]} | {r['size']} | {r.get('entries', 0):,} | "
                f"{r.get('checkins', 0):,} | {fmt(r['ms'])} | {stmts} |"
            )
    w("")
    w("![brief](plots/brief_vs_years.png) ![caseload](plots/caseload_vs_patients.png)\n")

    w("## Web Push delivery (bench/push.py)\n")
    if not any((results["push"].get(b) or {}).get("rows") for b in BACKENDS):
        w(f"Not measured: {missing('push', runner)}.\n")
    else:
        w("Messages/s to a fake push service on loopback, n=1 (one run per setting).\n")
        w(
            "| backend | latency ms | workers | msg/s | per worker | delivered "
            "| ceiling (encrypt only) |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|")
        for b in BACKENDS:
            p = results["push"].get(b) or {}
            for r in p.get("rows", []):
                w(
                    f"| {NAMES[b]} | {r['latency_ms']} | {r['workers']} | {r['rate']:,.0f} | "
                    f"{r['per_worker']:,.0f} | {r['sent']}/{r['received']} | "
                    f"{ms(p.get('ceiling'))} |"
                )
        w("")
        if any((results["push"].get(b) or {}).get("cpu") for b in BACKENDS):
            w(
                "CPU per message, same fake push service, same run: Node's `web-push`, our "
                "sender alone, and the worker's whole `reminders run --once` per delivered "
                "reminder minus its start-up (targets: worker ≤ 0.5× web-push, ≥ 2,000 "
                "messages/s per core).\n"
            )
            w("| backend | who | CPU ms/message | messages/s per core | × web-push |")
            w("|---|---|---:|---:|---:|")
            for b in BACKENDS:
                for c in (results["push"].get(b) or {}).get("cpu", []):
                    ratio = f"{c['ratio']:.2f}" if c["ratio"] is not None else "–"
                    w(
                        f"| {NAMES[b]} | {c['name']} | {c['ms']:.3f} | {c['per_core']:,.0f} "
                        f"| {ratio} |"
                    )
            w("")
        w("![push](plots/push_rate_vs_latency.png)\n")

    w("## The patient PWA (bench/pwa.py, SQLite only)\n")
    pwa = results["pwa"].get("sqlite")
    if not pwa or not pwa["figures"]:
        w(f"Not measured: {missing('pwa', runner)}.\n")
    else:
        sizes = pwa["sizes"]
        w(
            f"App shell {sizes.get('shell_kb', 0):.1f} KB with the service worker, "
            f"{sizes.get('pages_kb', 0):.1f} KB what pages load (budget 150 KB). "
            f"Headless Chromium, median (min–max) of {pwa['runs']} runs in one process:\n"
        )
        w("| figure | ms |")
        w("|---|---:|")
        for name, f in pwa["figures"].items():
            w(f"| {name} | {f['median']:,} ({f['min']:,}–{f['max']:,}, n={pwa['runs']}) |")
        w("")
    w("## Lighthouse (bench/lighthouse.py, SQLite only)\n")
    lighthouse = results["lighthouse"].get("sqlite")
    if not lighthouse:
        w(f"Not measured: {missing('lighthouse', runner)}.\n")
    else:
        w(
            f"Lighthouse {lighthouse['version']}, mobile preset, on `/` (the sign-in page every "
            f"patient starts from) under gunicorn; median (min–max) of {lighthouse['runs']} runs "
            "(target: 100 / 100 / 100 with no failing audit).\n"
        )
        w("| category | score |")
        w("|---|---:|")
        for name, score in lighthouse["scores"].items():
            low, high = lighthouse["spread"][name]
            w(f"| {name} | {score:.0f} ({low}–{high}) |")
        w("")
        if lighthouse["failing"]:
            w("Audits not passed (a score under 0.9) in any run:\n")
            for audit in lighthouse["failing"]:
                value = f": {audit['value']}" if audit["value"] else ""
                w(f"- `{audit['audit']}`{value}")
        else:
            w("No audit failed in any run.")
        w("")
    w("## Run log\n")
    w("| script | backend | seconds | result |")
    w("|---|---|---:|---|")
    for r in runner.log:
        w(
            f"| {r['script']} | {NAMES[r['backend']]} | {r['seconds']:.0f} | "
            f"{'ok' if r['ok'] else 'FAILED'} |"
        )
    for r in runner.log:
        if not r["ok"]:
            w(f"\n{r['script']} on {NAMES[r['backend']]} failed; the end of its output:\n")
            w("```\n" + r["tail"] + "\n```")
    w("")
    w("## How to run\n")
    w(
        "`make bench` (or `.venv/bin/python bench/run_all.py`). PostgreSQL comes from "
        "`BENCH_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/postgres`): "
        "each script makes its own uniquely named database there and drops it after. "
        f"This run: `{' '.join(args.argv_shown)}`. Each script also runs by itself; see "
        "its docstring.\n"
    )
    return "\n".join(out)


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG,
        help="PostgreSQL server URL (default: $BENCH_DATABASE_URL, else %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="one repetition, short loads")
    parser.add_argument(
        "--only",
        default="sync,brief,push,pwa,lighthouse,load",
        help="comma-separated scripts to run",
    )
    parser.add_argument("--out", default=str(BENCH / "RESULTS.md"), help="the report")
    parser.add_argument("--keep", metavar="DIR", help="keep every script's output here")
    args = parser.parse_args(argv)
    args.argv_shown = ["bench/run_all.py", *(argv if argv is not None else sys.argv[1:])]
    only = set(args.only.split(","))
    # repetitions where cheap; push and load take minutes, and report spread within a run
    reps = {"sync": 2, "brief": 3, "push": 1, "pwa": 1, "lighthouse": 1, "load": 1}
    if args.quick:
        reps = dict.fromkeys(reps, 1)
    load_seconds = "15" if args.quick else "40"
    started = datetime.now(UTC)
    t0 = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="between-bench-all-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        runner = Runner(work, sys.executable)
        info = machine(args.database_url)
        info["loadavg_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        info["busy_before"] = busy_cores()
        print(
            f"{info['cores']} cores, Python {info['python']}, SQLite {info['sqlite']}, "
            f"PostgreSQL {info['postgresql']}; {info['busy_before']:.2f} cores busy "
            f"before starting",
            flush=True,
        )
        raw: dict = {
            name: {}
            for name in (
                "sync",
                "brief",
                "push",
                "pwa",
                "lighthouse",
                "load",
                "paced",
                "locust_check",
            )
        }
        plan = []  # (results key, script, backend, args, repetitions, timeout)
        for b in BACKENDS:
            url = db_args(b, args.database_url)
            if "sync" in only:
                extra = ["--json", "{json}"] if has_flag("sync", "--json") else []
                plan.append(("sync", "sync", b, url + extra, reps["sync"], 600))
            if "brief" in only:
                extra = ["--json", "{json}"] if has_flag("brief", "--json") else []
                plan.append(("brief", "brief", b, url + extra, reps["brief"], 600))
            if "push" in only and (BENCH / "push.py").exists():
                plan.append(("push", "push", b, url, reps["push"], 900))
            if "pwa" in only and b == "sqlite":
                plan.append(("pwa", "pwa", b, [], reps["pwa"], 600))
            if "lighthouse" in only and b == "sqlite":
                runs = "1" if args.quick else "3"
                lighthouse_args = ["--runs", runs, "--json", "{json}"]
                plan.append(("lighthouse", "lighthouse", b, lighthouse_args, 1, 900))
            if "load" in only:
                users = "50,200"
                plan.append(
                    (
                        "load",
                        "load",
                        b,
                        url + ["--users", users, "--seconds", load_seconds, "--json", "{json}"],
                        reps["load"],
                        900,
                    )
                )
        if "load" in only:
            # Below saturation: 50 users offering less than the machine can serve, so the
            # latencies are the app's, not a queue's.
            url = db_args("postgresql", args.database_url)
            for rate in PACED_RATES:
                paced = ["--users", "50", "--rate", str(rate), "--seconds", load_seconds]
                paced += ["--repeats", "5", "--cost-rounds", "5", "--json", "{json}"]
                plan.append(("paced", "load", "postgresql", url + paced, 1, 900))
            plan.append(("locust_check", "locust_check", "none", ["--json", "{json}"], 1, 300))
        for key, script, backend, script_args, n, timeout in plan:
            for _ in range(n):
                got = runner.run(script, backend, script_args, timeout)
                raw[key].setdefault(backend, []).append(got)
        info["busy_after"] = busy_cores()
        info["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

        results = collect(raw)
        plots = plot_all(results)
        report = write_report(results, info, runner, started, plots, args)
        Path(args.out).write_text(report)
    print(
        f"\nwrote {args.out} and {len(plots)} plots in {PLOTS.relative_to(ROOT)}/ "
        f"({(time.monotonic() - t0) / 60:.1f} minutes)"
    )


if __name__ == "__main__":
    main()
