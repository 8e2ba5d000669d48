#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The side-by-side benchmark of mockit-run against lua5.4 + luv, Node.js and cyclictest.

Every workload is written once per peer under workloads/ and prints one JSON line; this driver
runs them interleaved (for each case: peer A, B, C, then again, with the order rotated on each
repetition so that no peer always runs first after another's heavy run), and reports the median
and [min..max] over the repetitions of every figure, with the ratio of mockit-run to the best
peer. scripts/bench is the entry point; see README.md beside this file for how to read it.

Exit status: 0 when every mockit-run run completed with correct counts (slow figures never
fail), 1 when one crashed, timed out or counted wrong, 2 on a bad command line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(HERE, "workloads")
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

MOCKIT, LUV, NODE, CYCLIC, LUA = "mockit-run", "lua5.4+luv", "node", "cyclictest", "lua5.4"
SINON = "sinon"  # Node.js with @sinonjs/fake-timers, from tests/bench/node_modules
# mockit-run itself, dispatching the seed's timers and mockit.timer's without names (workload
# "options": the column "mockit-run" there is named timers with --metrics-file)
PLAIN, OPTIONS = "getit (no statistics)", "timer{} (no name)"
# lua5.4's bare coroutines under the tasks workload: not a peer (it runs no timer), the floor
FLOOR = "lua5.4 coroutines (floor)"


# ----------------------------------------------------------------------------------- peers

@dataclass
class Peer:
    name: str
    available: bool
    version: str = ""
    note: str = ""
    argv: list = field(default_factory=list)  # the interpreter, for script peers


def _capture(argv, timeout=20):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout, text=True)
        return p.returncode, p.stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, str(e)


def detect_peers(build_dir: str) -> tuple[dict, list]:
    """The peers found on this machine, and the notes on those that are missing."""
    peers, notes = {}, []

    exe = os.path.join(build_dir, "bin", "mockit-run")
    if os.access(exe, os.X_OK):
        rc, out = _capture([exe, "-v"])
        peers[MOCKIT] = Peer(MOCKIT, True, " ".join(out.split()[:2]) if rc == 0 else "?",
                             argv=[exe])
    else:
        peers[MOCKIT] = Peer(MOCKIT, False, note=f"{exe} not found: build first")

    lua = shutil.which("lua5.4")
    if lua:
        rc, out = _capture([lua, "-v"])
        peers[LUA] = Peer(LUA, True, out.strip().split("  ")[0], argv=[lua])
        rc, out = _capture([lua, "-e", 'io.write(require"luv".version_string())'])
        if rc == 0:
            peers[LUV] = Peer(LUV, True, f"luv {out.strip()}", argv=[lua])
        else:
            peers[LUV] = Peer(LUV, False, note="luv not loadable by lua5.4 (apt-get install lua-luv)")
    else:
        peers[LUA] = Peer(LUA, False, note="lua5.4 not found (apt-get install lua5.4)")
        peers[LUV] = Peer(LUV, False, note="lua5.4 not found (apt-get install lua5.4 lua-luv)")

    node = shutil.which("node") or shutil.which("nodejs")
    rc, out = _capture([node, "-v"]) if node else (-1, "")
    if rc == 0:
        peers[NODE] = Peer(NODE, True, f"Node.js {out.strip()}", argv=[node])
    else:
        peers[NODE] = Peer(NODE, False, note="node not found (scripts/setup --bench)")

    # npm's peer lives beside this file (scripts/setup --bench installs it there from
    # package.json), where Node.js resolves require() from workloads/.
    sinon_pkg = os.path.join(HERE, "node_modules", "@sinonjs", "fake-timers", "package.json")
    if not peers[NODE].available:
        peers[SINON] = Peer(SINON, False, note="needs node (scripts/setup --bench)")
    elif not os.path.exists(sinon_pkg):
        peers[SINON] = Peer(SINON, False, note="@sinonjs/fake-timers is not installed in "
                            "tests/bench/node_modules (scripts/setup --bench)")
    else:
        with open(sinon_pkg) as f:
            version = json.load(f).get("version", "?")
        peers[SINON] = Peer(SINON, True, f"@sinonjs/fake-timers {version} on "
                            f"{peers[NODE].version}", argv=peers[NODE].argv)

    ct = shutil.which("cyclictest")
    if ct:
        _, out = _capture([ct, "--help"])
        version = out.splitlines()[0].strip() if out else "cyclictest"
        # mlockall keeps page faults out of the floor; without the privilege, go on without it.
        for extra in (["-m"], []):
            rc, _ = _capture([ct, "-i", "1000", "-l", "5", "-q", "--default-system"] + extra)
            if rc == 0:
                peers[CYCLIC] = Peer(CYCLIC, True, version + (" (mlockall)" if extra else ""),
                                     argv=[ct] + extra)
                break
        else:
            peers[CYCLIC] = Peer(CYCLIC, False, note="cyclictest does not run here")
    else:
        peers[CYCLIC] = Peer(CYCLIC, False, note="cyclictest not found (apt-get install rt-tests)")

    if not shutil.which("hyperfine"):
        notes.append("hyperfine not found (apt-get install hyperfine): start-up is timed by the "
                     "driver, fork/exec included")
    for p in peers.values():
        if not p.available:
            notes.append(f"{p.name} skipped: {p.note}")
    return peers, notes


# ----------------------------------------------------------------------------------- runs

@dataclass
class Run:
    values: dict = field(default_factory=dict)
    samples: Optional[list] = None   # lateness in µs, for the chart
    error: Optional[str] = None
    seconds: float = 0.0
    # When each mark line and the result line arrived (time.monotonic()), by mark name and
    # "result": the real time of a span in a script whose own clocks are simulated.
    arrivals: dict = field(default_factory=dict)


def child_env():
    env = dict(os.environ)
    # A user's LUA_INIT would run inside both Lua peers and skew them.
    for k in ("LUA_INIT", "LUA_INIT_5_4"):
        env.pop(k, None)
    return env


def _kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _communicate_timed(p, timeout):
    """communicate() that also notes when each line of stdout arrived: [(monotonic, line)]."""
    deadline = time.monotonic() + timeout
    out_fd, err_fd = p.stdout.fileno(), p.stderr.fileno()
    data = {out_fd: bytearray(), err_fd: bytearray()}
    lines, open_fds = [], {out_fd, err_fd}
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(p.args, timeout)
        ready, _, _ = select.select(list(open_fds), [], [], left)
        now = time.monotonic()
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
                continue
            data[fd] += chunk
            while fd == out_fd and b"\n" in data[out_fd]:
                line, _, rest = data[out_fd].partition(b"\n")
                lines.append((now, line.decode(errors="replace")))
                data[out_fd] = rest
    if data[out_fd]:
        lines.append((time.monotonic(), data[out_fd].decode(errors="replace")))
    p.wait(timeout=max(0.0, deadline - time.monotonic()))
    return lines, data[err_fd].decode(errors="replace")


def run_json(argv, timeout) -> Run:
    """Runs one workload script; its single JSON line is the result. It may print mark lines,
    {"mark": NAME}, before it: the driver notes when each arrived (Run.arrivals)."""
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=child_env(),
                             start_new_session=True, cwd=WORKLOADS)
    except OSError as e:
        return Run(error=f"cannot start {argv[0]}: {e}")
    try:
        out, err = _communicate_timed(p, timeout)
    except subprocess.TimeoutExpired:
        _kill_group(p)
        p.communicate()
        return Run(error=f"timed out after {timeout} s", seconds=time.monotonic() - t0)
    p.stdout.close()
    p.stderr.close()
    secs = time.monotonic() - t0
    tail = " | ".join(err.strip().splitlines()[-4:])
    if p.returncode != 0:
        return Run(error=f"exit status {p.returncode}: {tail}", seconds=secs)
    arrivals, results = {}, []
    for at, line in out:
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError as e:
            return Run(error=f"bad JSON ({e}): {line[:200]}", seconds=secs)
        if isinstance(doc, dict) and set(doc) == {"mark"}:
            arrivals[doc["mark"]] = at
        else:
            results.append((at, doc))
    if len(results) != 1:
        return Run(error=f"{len(results)} result lines instead of 1: {tail}", seconds=secs)
    arrivals["result"], doc = results[0]
    run = Run(values={"_doc": doc}, seconds=secs, arrivals=arrivals)
    if not isinstance(doc, dict) or not doc.get("ok", False):
        run.error = "; ".join((doc.get("errors") if isinstance(doc, dict) else None)
                              or ["the workload reported a failure"])
    return run


def nearest_rank(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(p * len(sorted_values))) - 1]


def robust_drift(us: list) -> Optional[float]:
    """Drift as the median lateness of the last 100 callbacks minus that of the first 100: the
    issue's "last minus first" hangs on two single samples, and a late first tick (a thread
    starting, a page fault) reads as a large negative drift."""
    if not us:
        return None
    k = max(1, min(100, len(us) // 10))
    return statistics.median(us[-k:]) - statistics.median(us[:k])


def lateness_values(summary: dict, prefix="") -> dict:
    return {prefix + k: summary.get(k) for k in ("p50", "p99", "max", "min")}


# ----------------------------------------------------------------------------------- cases

@dataclass
class Metric:
    key: str
    label: str
    better: str  # "lower", "higher", "abs" (closer to zero), "info" (no ratio)


@dataclass
class Case:
    name: str
    workload: str
    title: str
    metrics: list
    runners: dict  # peer name -> () -> Run
    chart: bool = False


LATENESS = [
    Metric("p50", "lateness p50 (µs)", "lower"),
    Metric("p99", "lateness p99 (µs)", "lower"),
    Metric("max", "lateness max (µs)", "lower"),
]


def script_runner(peer: Peer, script: str, args, extract, timeout):
    def go():
        run = run_json(peer.argv + [os.path.join(WORKLOADS, script)] + [str(a) for a in args],
                       timeout)
        if "_doc" in run.values:
            doc = run.values.pop("_doc")
            try:
                run.values.update(extract(doc, run))
            except (KeyError, TypeError) as e:
                run.error = run.error or f"result lacks {e}: {json.dumps(doc)[:200]}"
        return run
    return go


def lua_js_runners(peers, stem, args, extract, timeout):
    """Runners for the three script peers of a workload: stem.lua, stem.luv.lua, stem.js."""
    out = {}
    if peers[MOCKIT].available:
        out[MOCKIT] = script_runner(peers[MOCKIT], stem + ".lua", args, extract, timeout)
    if peers[LUV].available:
        out[LUV] = script_runner(peers[LUV], stem + ".luv.lua", args, extract, timeout)
    if peers[NODE].available:
        out[NODE] = script_runner(peers[NODE], stem + ".js", args, extract, timeout)
    return out


def tasks_runners(peers, n, spread, extract, timeout):
    """The tasks workload's peers, and plain lua5.4's bare coroutines: the floor under any Lua task."""
    out = lua_js_runners(peers, "tasks", [n, spread], extract, timeout)
    if peers[LUA].available:
        out[FLOOR] = script_runner(peers[LUA], "tasks.lua54.lua", [n, spread], extract, timeout)
    return out


def cyclictest_runner(peer: Peer, interval_us: int, loops: int, relative: bool, timeout):
    """cyclictest at normal priority: every wake-up's lateness, in ns with -v -N."""
    def go():
        argv = peer.argv[:1] + ["-i", str(interval_us), "-l", str(loops), "-q", "-v", "-N",
                                "--default-system"] + peer.argv[1:] + (["-r"] if relative else [])
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Run(error=f"timed out after {timeout} s")
        secs = time.monotonic() - t0
        if p.returncode != 0:
            return Run(error=f"exit status {p.returncode}: {p.stderr.strip()[-200:]}", seconds=secs)
        ns = [int(m.group(1)) for m in re.finditer(r"^\s*0:\s*\d+:\s*(\d+)\s*$", p.stdout, re.M)]
        us = [v / 1000 for v in ns]
        s = sorted(us)
        values = {
            "p50": nearest_rank(s, 0.5), "p99": nearest_rank(s, 0.99),
            "max": s[-1] if s else None, "min": s[0] if s else None,
            "fires": len(us), "delivered": len(us) / loops,
            "drift": (us[-1] - us[0]) if us else None, "drift_robust": robust_drift(us),
        }
        return Run(values=values, samples=us, seconds=secs)
    return go


def idle_runner(peer: Peer, script: str, settle: float, window: float, timeout: float,
                expect_rc=None):
    """Starts the idle workload, waits for its ready line, and watches it from outside."""
    def snapshot(pid):
        switches, cpu_ns, threads = 0, 0, 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    st = f.read()
                switches += sum(int(x) for x in re.findall(r"ctxt_switches:\s*(\d+)", st))
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    cpu_ns += int(f.read().split()[0])
                threads += 1
            except (OSError, ValueError, IndexError):
                pass  # a thread that ended between listing and reading
        return switches, cpu_ns, threads

    def go():
        argv = peer.argv + [os.path.join(WORKLOADS, script)]
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True, env=child_env(),
                             start_new_session=True, cwd=WORKLOADS)
        try:
            ready, _, _ = select.select([p.stdout], [], [], timeout)
            line = p.stdout.readline() if ready else ""
            if not line.startswith("{"):
                _kill_group(p)
                _, err = p.communicate()
                return Run(error=f"no ready line: {err.strip()[-200:]}")
            time.sleep(settle)
            s1 = snapshot(p.pid)
            time.sleep(window)
            if p.poll() is not None:
                return Run(error=f"exited during the idle window (status {p.returncode})")
            s2 = snapshot(p.pid)
            with open(f"/proc/{p.pid}/status") as f:
                st = f.read()
            rss_kb = int(re.search(r"VmRSS:\s*(\d+)", st).group(1))
            p.send_signal(signal.SIGTERM)
            try:
                p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_group(p)
                p.communicate()
                return Run(error="did not stop within 10 s of SIGTERM")
        finally:
            if p.poll() is None:
                _kill_group(p)
                p.wait()
        wakeups = s2[0] - s1[0]
        run = Run(values={
            "wakeups": wakeups, "wakeups_per_s": wakeups / window,
            "cpu_ms": (s2[1] - s1[1]) / 1e6, "rss_mb": rss_kb / 1024, "threads": s2[2],
        }, seconds=time.monotonic() - t0)
        if expect_rc is not None and p.returncode != expect_rc:
            run.error = f"exit status {p.returncode} after SIGTERM, expected {expect_rc}"
        return run
    return go


def startup_runner(argv: list, runs: int, warmup: int, hyperfine: Optional[str]):
    """Start-up time of one command line: hyperfine when present, else timed here."""
    def go():
        t0 = time.monotonic()
        if hyperfine:
            with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
                cmd = [hyperfine, "-N", "--style", "none", "--warmup", str(warmup),
                       "--runs", str(runs), "--export-json", tmp.name,
                       " ".join(shlex.quote(a) for a in argv)]
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True, env=child_env())
                if p.returncode != 0:
                    return Run(error=f"hyperfine: {p.stderr.strip()[-300:]}")
                times = json.load(open(tmp.name))["results"][0]["times"]
        else:
            times = []
            for i in range(warmup + runs):
                s = time.perf_counter()
                rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=child_env()).returncode
                if rc != 0:
                    return Run(error=f"exit status {rc}")
                if i >= warmup:
                    times.append(time.perf_counter() - s)
        ms = sorted(t * 1000 for t in times)
        return Run(values={"median_ms": statistics.median(ms), "mean_ms": statistics.fmean(ms),
                           "min_ms": ms[0]}, seconds=time.monotonic() - t0)
    return go


def build_cases(peers: dict, quick: bool) -> list:
    q = quick
    timeout = 120 if q else 900
    cases = []
    avail = {k for k, p in peers.items() if p.available}

    # 1. interval lateness and drift
    def interval_extract(doc, run):
        run.samples = doc["lateness"]["samples"]
        v = lateness_values(doc["lateness"])
        v.update(fires=doc["fires"], delivered=doc["fires"] / doc["expected"],
                 drift=doc["drift_us"], drift_robust=robust_drift(run.samples))
        return v

    for ms in (1, 10):
        duration = 500 if q else 5000
        loops = (500 if q else 10000) if ms == 1 else duration // ms
        r = lua_js_runners(peers, "interval", [ms, duration], interval_extract, timeout)
        if CYCLIC in avail:
            r[CYCLIC] = cyclictest_runner(peers[CYCLIC], ms * 1000, loops, False, timeout)
        cases.append(Case(
            f"interval-{ms}ms", "interval",
            f"one interval timer at {ms} ms for {duration / 1000:g} s; lateness of the k-th "
            f"callback against t0 + k*{ms} ms (cyclictest: clock_nanosleep on an absolute "
            f"{ms} ms schedule, {loops} loops)",
            LATENESS + [
                Metric("drift", "drift: last minus first lateness (µs)", "abs"),
                Metric("drift_robust", "drift: median of last 100 minus first 100 (µs)", "abs"),
                Metric("delivered", "fires / expected", "higher"),
                Metric("fires", "fires", "info"),
            ], r, chart=True))

    # 2. one-off lateness
    def oneoff_extract(doc, run):
        run.samples = doc["lateness"]["samples"]
        v = lateness_values(doc["lateness"])
        v["ran"] = doc["ran"]
        return v

    count = 20 if q else 200
    r = lua_js_runners(peers, "oneoff", [count], oneoff_extract, timeout)
    if CYCLIC in avail:
        r[CYCLIC] = cyclictest_runner(peers[CYCLIC], 1000, 200 if q else 5000, True, timeout)
    cases.append(Case(
        "oneoff", "oneoff",
        f"{count} sequential one-offs of 1..50 ms, each armed from the previous callback; "
        "lateness against arm time + delay, negative = early (cyclictest: relative 1 ms "
        "clock_nanosleep, the same thing as a one-off)",
        LATENESS + [Metric("min", "earliest (µs; negative = early)", "higher"),
                    Metric("ran", "callbacks run", "info")],
        r, chart=True))

    # 3. scale
    def scale_extract(doc, run):
        return {"arm_ms": doc["arm_ms"], "done_ms": doc["done_ms"], "ran": doc["ran"],
                "rss_mb": doc["peak_rss_kb"] / 1024}

    spread = 200 if q else 2000
    for exp in ((3, 4) if q else (3, 4, 5, 6)):
        n = 10 ** exp
        cases.append(Case(
            f"scale-1e{exp}", "scale",
            f"{n:,} concurrent one-offs with delays spread over 1..{spread} ms",
            [Metric("arm_ms", "time to arm (ms)", "lower"),
             Metric("done_ms", "time until all ran (ms)", "lower"),
             Metric("rss_mb", "peak RSS (MB)", "lower"),
             Metric("ran", "callbacks run (each exactly once)", "info")],
            lua_js_runners(peers, "scale", [n, spread], scale_extract, timeout)))

    # 3b. tasks: scale's schedule, as sequential code (issue 16)
    for exp in ((3,) if q else (4, 5, 6)):
        n = 10 ** exp
        cases.append(Case(
            f"tasks-1e{exp}", "tasks",
            f"{n:,} concurrent tasks that each pause once, for 1..{spread} ms (mockit.spawn + "
            "mockit.pause; luv: a coroutine resumed by a timer of its own; Node: an async "
            "function awaiting timers/promises' setTimeout)",
            [Metric("arm_ms", "time to start them all (ms)", "lower"),
             Metric("done_ms", "time until all finished (ms)", "lower"),
             Metric("rss_mb", "peak RSS (MB)", "lower"),
             Metric("ran", "tasks finished (each exactly once)", "info")],
            tasks_runners(peers, n, spread, scale_extract, timeout)))

    # 4. dispatch throughput
    def dispatch_extract(doc, run):
        return {k: doc[k] for k in ("callbacks_per_s", "share_min", "share_max", "stop_late_ms",
                                    "callbacks")}

    n, dur = (1000, 300) if q else (10000, 3000)
    cases.append(Case(
        "dispatch", "dispatch",
        f"{n:,} interval timers at 1 ms for {dur / 1000:g} s; callbacks actually run per second "
        f"(ideal {n * 1000:,}/s), each timer's count against its ideal, and how late the "
        "one-off that stops the run ran",
        [Metric("callbacks_per_s", "callbacks per second", "higher"),
         Metric("share_min", "least-served timer: share of ideal", "info"),
         Metric("share_max", "most-served timer: share of ideal", "info"),
         Metric("stop_late_ms", "stop one-off late by (ms)", "lower"),
         Metric("callbacks", "callbacks run", "info")],
        lua_js_runners(peers, "dispatch", [n, 1, dur], dispatch_extract, timeout)))

    # 4b. the cost of statistics and metrics (issue 18): the same dispatch with the seed's timers,
    # with mockit.timer's, and with named ones and --metrics-file; more timers than dispatch has,
    # so that each variant runs as fast as it can
    n_opt, dur_opt = (1000, 300) if q else (30000, 1000)
    r = {}
    if peers[MOCKIT].available:
        metrics_path = os.path.join(tempfile.gettempdir(), f"mockit-bench-{os.getpid()}.prom")
        named = Peer(MOCKIT, True, argv=peers[MOCKIT].argv + ["--metrics-file", metrics_path,
                                                              "--metrics-interval", "0.5"])
        r[MOCKIT] = script_runner(named, "dispatch.lua", [n_opt, 1, dur_opt, "named"],
                                  dispatch_extract, timeout)
        r[PLAIN] = script_runner(peers[MOCKIT], "dispatch.lua", [n_opt, 1, dur_opt, "getit"],
                                 dispatch_extract, timeout)
        r[OPTIONS] = script_runner(peers[MOCKIT], "dispatch.lua", [n_opt, 1, dur_opt, "timer"],
                                   dispatch_extract, timeout)
    cases.append(Case(
        "options", "options",
        f"{n_opt:,} interval timers at 1 ms for {dur_opt / 1000:g} s, as dispatch: the seed's "
        "(getit), mockit.timer{every = 1} (each run recorded in t:stats()), and mockit.timer "
        "with 100 names and --metrics-file every 0.5 s (column mockit-run)",
        [Metric("callbacks_per_s", "callbacks per second", "higher"),
         Metric("stop_late_ms", "stop one-off late by (ms)", "lower"),
         Metric("callbacks", "callbacks run", "info")], r))

    # 5. drain
    def drain_extract(doc, run):
        return {"callbacks_per_s": doc["callbacks_per_s"], "elapsed_ms": doc["elapsed_ms"]}

    total, batch = (50000, 10000) if q else (1000000, 10000)
    cases.append(Case(
        "drain", "drain",
        f"{total:,} one-offs of 1 ms armed in batches of {batch:,} (the last callback of a "
        "batch arms the next) and drained",
        [Metric("callbacks_per_s", "callbacks per second", "higher"),
         Metric("elapsed_ms", "elapsed (ms)", "lower")],
        lua_js_runners(peers, "drain", [total, batch, 1], drain_extract, timeout)))

    # 5b. memory freed for other sizes: plain Lua, so the peer is lua5.4 alone
    def strings_extract(doc, run):
        return {"rss_mb": doc["peak_rss_kb"] / 1024, "cpu_ms": doc["cpu_ms"]}

    n = 20000 if q else 400000
    r = {}
    for peer in (MOCKIT, LUA):
        if peer in avail:
            r[peer] = script_runner(peers[peer], "strings.lua", [n, 12, "closures"],
                                    strings_extract, timeout)
    cases.append(Case(
        "strings", "strings",
        f"12 batches of {n:,} closures, each holding a string of its batch's length (16, 32, "
        "... 192 bytes), each batch collected before the next: peak RSS, and CPU time",
        [Metric("rss_mb", "peak RSS (MB)", "lower"),
         Metric("cpu_ms", "CPU time (ms)", "lower")], r))

    # 6. destroy latency
    phases = ["armed", "mid", "due-1ms", "queued", "own-callback", "after-fire"]

    def destroy_extract(doc, run):
        v = {}
        for ph in phases:
            s = doc["destroy"][ph]
            v[f"{ph}:p50"], v[f"{ph}:p99"], v[f"{ph}:max"] = s["p50"], s["p99"], s["max"]
        return v

    interval, trials = (200, 20) if q else (2000, 200)
    metrics = []
    for ph in phases:
        metrics += [Metric(f"{ph}:p50", f"{ph}: p50 (µs)", "lower"),
                    Metric(f"{ph}:max", f"{ph}: max (µs)", "lower")]
    cases.append(Case(
        "destroy", "destroy",
        f"time of the destroy call itself (luv: stop()+close(), Node: clearInterval()) for a "
        f"{interval / 1000:g} s interval timer at several phases, {trials} trials each",
        metrics, lua_js_runners(peers, "destroy", [interval, trials], destroy_extract, timeout)))

    # 7. idle
    settle, window = (0.3, 2.0) if q else (1.0, 10.0)
    r = {}
    if MOCKIT in avail:
        r[MOCKIT] = idle_runner(peers[MOCKIT], "idle.lua", settle, window, 30, expect_rc=0)
    if LUV in avail:
        r[LUV] = idle_runner(peers[LUV], "idle.luv.lua", settle, window, 30)
    if NODE in avail:
        r[NODE] = idle_runner(peers[NODE], "idle.js", settle, window, 30)
    cases.append(Case(
        "idle", "idle",
        f"one timer an hour away; watched from outside for {window:g} s after a {settle:g} s "
        "settle: context switches summed over all threads, CPU time, RSS",
        [Metric("wakeups", "context switches in the window", "lower"),
         Metric("wakeups_per_s", "wake-ups per second", "lower"),
         Metric("cpu_ms", "CPU time in the window (ms)", "lower"),
         Metric("rss_mb", "RSS (MB)", "lower"),
         Metric("threads", "threads", "info")], r))

    # 8. startup
    hf = shutil.which("hyperfine")
    runs, warmup = (5, 1) if q else (40, 5)
    r = {}
    if MOCKIT in avail:
        r[MOCKIT] = startup_runner(peers[MOCKIT].argv + ["-e", ""], runs, warmup, hf)
    if LUA in avail:
        r[LUA] = startup_runner(peers[LUA].argv + ["-e", ""], runs, warmup, hf)
    if LUV in avail:
        r[LUV] = startup_runner(peers[LUV].argv + ["-e", 'require"luv"'], runs, warmup, hf)
    if NODE in avail:
        r[NODE] = startup_runner(peers[NODE].argv + ["-e", ""], runs, warmup, hf)
    how = "hyperfine -N" if hf else "timed by the driver (hyperfine missing; includes fork/exec)"
    cases.append(Case(
        "startup", "startup",
        f"`mockit-run -e ''`, `lua5.4 -e ''`, `lua5.4 -e 'require\"luv\"'`, `node -e ''`: "
        f"{how}, {runs} runs after {warmup} warm-up per repetition",
        [Metric("median_ms", "median (ms)", "lower"),
         Metric("mean_ms", "mean (ms)", "lower"),
         Metric("min_ms", "fastest (ms)", "lower")], r))

    # 9. virtual time: mockit-run --virtual-time against @sinonjs/fake-timers, same schedules
    def virtual_extract(doc, run):
        # Both lines in one read of the pipe (a run of the quick sizes) make a span of 0.
        wall_s = run.arrivals["result"] - run.arrivals["start"]
        delay_sum = doc.get("delay_sum")  # one-offs only: the schedule both peers ran
        return {"wall_ms": wall_s * 1000, "runs_per_s": doc["ran"] / wall_s if wall_s else None,
                "cpu_ms": doc["cpu_ms"], "rss_mb": doc["peak_rss_kb"] / 1024, "ran": doc["ran"],
                "simulated_days": doc["simulated_ms"] / 86400e3,
                "mean_delay_s": delay_sum / doc["ran"] / 1000 if delay_sum else None,
                "script_wall_ms": doc.get("script_wall_ms")}

    virtual_metrics = [
        Metric("wall_ms", "real time of the simulated run (ms)", "lower"),
        Metric("runs_per_s", "callbacks per second of real time", "higher"),
        Metric("cpu_ms", "CPU time of the simulated run (ms)", "lower"),
        Metric("rss_mb", "peak RSS (MB)", "lower"),
        Metric("ran", "callbacks run", "info"),
        Metric("simulated_days", "simulated time at the end (days)", "info"),
        Metric("mean_delay_s", "mean delay (s; the same schedule on both sides)", "info"),
    ]
    mockit_virtual = Peer(MOCKIT, peers[MOCKIT].available,
                          argv=peers[MOCKIT].argv + ["--virtual-time"])
    month, oneoffs, year = (3600, 1000, 86400) if q else (2592000, 100000, 31536000)

    def through(runs):
        count, unit = (runs // 86400, "day") if runs >= 86400 else (runs // 3600, "hour")
        unit += "s" * (count != 1)
        return f"one 1 s interval through {count} simulated {unit} ({runs:,} runs)"

    schedules = [
        ("virtual-month", "interval", month, through(month), "clock.tick()"),
        ("virtual-oneoffs", "oneoffs", oneoffs, f"{oneoffs:,} one-offs at pseudo-random delays of "
         "1 ms to a day (one seeded LCG in both scripts), run to the end", None),
        ("virtual-year", "interval", year, through(year), "clock.tick()"),
    ]
    for name, schedule, size, what, sinon_call in schedules:
        for mode, how in (("run", "mockit.run(), the loop of mockit-run's own"),
                          ("advance", "one mockit.clock.advance() over the schedule")):
            how_sinon = sinon_call or ("clock.runAll()" if mode == "run" else "clock.tick()")
            r = {}
            if mockit_virtual.available:
                r[MOCKIT] = script_runner(mockit_virtual, "virtual.lua", [schedule, size, mode],
                                          virtual_extract, timeout)
            if SINON in avail:
                r[SINON] = script_runner(peers[SINON], "virtual.js", [schedule, size, mode],
                                         virtual_extract, timeout)
            cases.append(Case(
                name + ("-advance" if mode == "advance" else ""), "virtual",
                f"{what}: `mockit-run --virtual-time` with {how}, against "
                f"@sinonjs/fake-timers' {how_sinon}; real time taken by the driver between the "
                "script's start mark and its result line, CPU time inside (os.clock(), "
                "process.cpuUsage())", virtual_metrics, r))
    return cases


# ----------------------------------------------------------------------------------- report

PEER_ORDER = [MOCKIT, LUV, NODE, CYCLIC, LUA, SINON, PLAIN, OPTIONS, FLOOR]


def fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v:,.0f}"
    if a >= 100 or (isinstance(v, int)):
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def cell(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return "—"
    if len(vals) == 1:
        return fmt(vals[0])
    return f"{fmt(statistics.median(vals))} [{fmt(min(vals))}..{fmt(max(vals))}]"


def ratio_cell(metric: Metric, medians: dict) -> str:
    if metric.better == "info" or medians.get(MOCKIT) is None:
        return ""
    others = {p: v for p, v in medians.items() if p not in (MOCKIT, FLOOR) and v is not None}
    if not others:
        return "no peer"
    mine = medians[MOCKIT]
    if metric.better == "abs":
        mine = abs(mine)
        others = {p: abs(v) for p, v in others.items()}
    pick = max if metric.better == "higher" else min
    best = pick(others, key=others.get)
    if mine == 0 and others[best] == 0:
        return f"equal ({best})"
    if mine < 0 or others[best] <= 0:
        return f"n/a (best: {best})"
    return f"{mine / others[best]:.2f}x {best}"


BETTER = {"lower": "↓", "higher": "↑", "abs": "→0", "info": ""}


def table(case: Case, results: dict) -> list:
    peers = [p for p in PEER_ORDER if p in case.runners]
    lines = ["| metric | better | " + " | ".join(peers) + " | mockit-run ÷ best peer |",
             "| --- | :-: | " + " | ".join("---:" for _ in peers) + " | --- |"]
    for m in case.metrics:
        row = results.get(case.name, {})
        if not any(r.values.get(m.key) is not None for p in peers for r in row.get(p, [])):
            continue
        per_peer = {p: [r.values.get(m.key) for r in row.get(p, []) if r.error is None]
                    for p in peers}
        medians = {p: med(v) for p, v in per_peer.items()}
        lines.append(f"| {m.label} | {BETTER[m.better]} | "
                     + " | ".join(cell(per_peer[p]) for p in peers)
                     + f" | {ratio_cell(m, medians)} |")
    return lines


def median_of(results, case, peer, key):
    runs = results.get(case, {}).get(peer, [])
    return med([r.values.get(key) for r in runs if r.error is None])


def targets(results: dict, quick: bool) -> list:
    """The SPEC section 5, issue 6, 16, 17 and 18 targets, judged on the medians of this run, and
    the allocator's ("alloc": a script's memory against lua5.4's)."""
    rows = []

    def add(source, text, mine, ref, ok):
        case = text.split(":")[0].split(" ")[0]
        case = {"interval": "interval-1ms" if "10 ms" not in text else "interval-10ms",
                "one-offs": "oneoff"}.get(case, case)
        if case not in results:
            return  # not run (--only)
        status = "n/a" if mine is None or ok is None else ("met" if ok else "MISSED")
        rows.append((source, text, mine, ref, status))

    def get(case, peer, key):
        return median_of(results, case, peer, key)

    def safe(f):
        try:
            return f()
        except TypeError:  # a figure is missing: a peer was skipped or failed (n/a)
            return None

    m = lambda c, k: get(c, MOCKIT, k)  # noqa: E731

    d1 = m("interval-1ms", "delivered")
    add("issue", "interval 1 ms: every expiry delivered", fmt(d1), "1.00", d1 is not None and d1 >= 1)
    drift, p99 = m("interval-1ms", "drift"), m("interval-1ms", "p99")
    add("issue", "interval 1 ms: abs(drift) ≤ its p99 lateness",
        f"{fmt(drift)} µs" if drift is not None else None, f"{fmt(p99)} µs",
        safe(lambda: abs(drift) <= p99))
    robust = m("interval-1ms", "drift_robust")
    add("SPEC", "interval 1 ms: no drift (abs(median of last 100 minus first 100) ≤ p99)",
        f"{fmt(robust)} µs" if robust is not None else None, f"{fmt(p99)} µs",
        safe(lambda: abs(robust) <= p99))
    ct99 = get("interval-1ms", CYCLIC, "p99")
    add("SPEC+issue", "interval 1 ms: p99 lateness ≤ 2x cyclictest p99",
        f"{fmt(p99)} µs" if p99 is not None else None,
        f"2 x {fmt(ct99)} µs" if ct99 is not None else "no cyclictest",
        safe(lambda: p99 <= 2 * ct99))
    drift10, p99_10 = m("interval-10ms", "drift"), m("interval-10ms", "p99")
    add("SPEC", "interval 10 ms: no drift (abs(drift) ≤ its p99 lateness)",
        f"{fmt(drift10)} µs" if drift10 is not None else None, f"{fmt(p99_10)} µs",
        safe(lambda: abs(drift10) <= p99_10))

    runs = results.get("oneoff", {}).get(MOCKIT, [])
    early = min((r.values["min"] for r in runs if r.error is None), default=None)
    add("issue", "one-offs: never early (earliest of all repetitions ≥ 0)",
        f"{fmt(early)} µs" if early is not None else None, "0", safe(lambda: early >= 0))
    p50, ct50 = m("oneoff", "p50"), get("oneoff", CYCLIC, "p50")
    add("issue", "one-offs: p50 ≤ 1.5x cyclictest p50", f"{fmt(p50)} µs" if p50 is not None else None,
        f"1.5 x {fmt(ct50)} µs" if ct50 is not None else "no cyclictest",
        safe(lambda: p50 <= 1.5 * ct50))

    big = "scale-1e4" if quick else "scale-1e6"
    arm, rss, done = m(big, "arm_ms"), m(big, "rss_mb"), m(big, "done_ms")
    n_arm, n_rss = get(big, NODE, "arm_ms"), get(big, NODE, "rss_mb")
    l_arm, l_rss, l_done = get(big, LUV, "arm_ms"), get(big, LUV, "rss_mb"), get(big, LUV, "done_ms")
    n_done = get(big, NODE, "done_ms")
    mruns = results.get(big, {}).get(MOCKIT, [])
    add("SPEC", f"{big}: every callback ran exactly once",
        f"{sum(r.error is None for r in mruns)} of {len(mruns)} runs" if mruns else None,
        "all runs", bool(mruns) and all(r.error is None for r in mruns))
    add("issue", f"{big}: arm ≥ 2x faster than Node", f"{fmt(arm)} ms" if arm else None,
        f"{fmt(n_arm)} / 2 ms" if n_arm else "no node", safe(lambda: arm <= n_arm / 2))
    add("issue", f"{big}: peak RSS ≤ half of Node's", f"{fmt(rss)} MB" if rss else None,
        f"{fmt(n_rss)} / 2 MB" if n_rss else "no node", safe(lambda: rss <= n_rss / 2))
    add("SPEC", f"{big}: armed faster than both peers", f"{fmt(arm)} ms" if arm else None,
        f"luv {fmt(l_arm)}, node {fmt(n_arm)}", safe(lambda: arm < min(l_arm, n_arm)))
    add("SPEC", f"{big}: all ran sooner than both peers", f"{fmt(done)} ms" if done else None,
        f"luv {fmt(l_done)}, node {fmt(n_done)}", safe(lambda: done < min(l_done, n_done)))
    add("SPEC", f"{big}: less peak memory than both peers", f"{fmt(rss)} MB" if rss else None,
        f"luv {fmt(l_rss)}, node {fmt(n_rss)}", safe(lambda: rss < min(l_rss, n_rss)))

    tasks = "tasks-1e3" if quick else "tasks-1e6"
    for key, what in (("arm_ms", "started"), ("done_ms", "all finished"), ("rss_mb", "peak RSS")):
        mine, luv, node = m(tasks, key), get(tasks, LUV, key), get(tasks, NODE, key)
        unit = "MB" if key == "rss_mb" else "ms"
        add("issue 16", f"{tasks}: {what} below both peers",
            f"{fmt(mine)} {unit}" if mine else None, f"luv {fmt(luv)}, node {fmt(node)}",
            safe(lambda: mine < min(luv, node)))
    # Node's figure lies below what a bare Lua coroutine costs (tasks.lua54.lua): what is mockit's
    # own is the difference.
    mine, floor, n_tasks = m(tasks, "rss_mb"), get(tasks, FLOOR, "rss_mb"), 10 ** int(tasks[-1])
    add("issue 16", f"{tasks}: peak RSS above lua5.4's bare coroutines",
        f"{fmt((mine - floor) * 2 ** 20 / n_tasks)} bytes a task" if mine and floor else None,
        "≤ 256 bytes a task", safe(lambda: (mine - floor) * 2 ** 20 / n_tasks <= 256))

    for case, label in (("dispatch", "dispatch"), ("drain", "drain")):
        mine = m(case, "callbacks_per_s")
        node, luv = get(case, NODE, "callbacks_per_s"), get(case, LUV, "callbacks_per_s")
        add("issue", f"{label}: ≥ 1.5x Node's callbacks/s", f"{fmt(mine)}/s" if mine else None,
            f"1.5 x {fmt(node)}/s" if node else "no node", safe(lambda: mine >= 1.5 * node))
        if case == "dispatch":
            add("SPEC", "dispatch: callbacks/s above both peers", f"{fmt(mine)}/s" if mine else None,
                f"luv {fmt(luv)}, node {fmt(node)}", safe(lambda: mine > max(luv, node)))

    rss_s, lua_s = m("strings", "rss_mb"), get("strings", LUA, "rss_mb")
    add("alloc", "strings: peak RSS ≤ 1.5x lua5.4's", f"{fmt(rss_s)} MB" if rss_s else None,
        f"1.5 x {fmt(lua_s)} MB" if lua_s else "no lua5.4", safe(lambda: rss_s <= 1.5 * lua_s))

    phases = ["armed", "mid", "due-1ms", "queued", "own-callback", "after-fire"]
    p50s = [m("destroy", f"{ph}:p50") for ph in phases]
    maxes = [m("destroy", f"{ph}:max") for ph in phases]
    worst50 = max((v for v in p50s if v is not None), default=None)
    worst = max((v for v in maxes if v is not None), default=None)
    add("issue", "destroy: p50 < 10 µs at every phase",
        f"worst phase {fmt(worst50)} µs" if worst50 is not None else None, "10 µs",
        safe(lambda: worst50 < 10))
    add("SPEC", "destroy: under 100 µs (the slowest call of any phase)",
        f"{fmt(worst)} µs" if worst is not None else None, "100 µs", safe(lambda: worst < 100))

    w, rss_i, l_rss_i = m("idle", "wakeups"), m("idle", "rss_mb"), get("idle", LUV, "rss_mb")
    add("SPEC+issue", "idle: zero wake-ups", fmt(w) if w is not None else None, "0",
        w is not None and w == 0)
    add("issue", "idle: RSS ≤ 1.2x lua5.4 + luv", f"{fmt(rss_i)} MB" if rss_i else None,
        f"1.2 x {fmt(l_rss_i)} MB" if l_rss_i else "no luv", safe(lambda: rss_i <= 1.2 * l_rss_i))

    s, lua = m("startup", "median_ms"), get("startup", LUA, "median_ms")
    for factor, source in ((1.3, "issue"), (1.5, "SPEC")):
        add(source, f"startup: `mockit-run -e ''` ≤ {factor}x `lua5.4 -e ''`",
            f"{fmt(s)} ms" if s else None, f"{factor} x {fmt(lua)} ms" if lua else "no lua5.4",
            safe(lambda: s <= factor * lua))

    # Names and the metrics file can be turned on and off; a timer with options always keeps its
    # statistics, so against getit it is its whole cost that shows (RESULTS.md splits it).
    on, off = m("options", "callbacks_per_s"), get("options", OPTIONS, "callbacks_per_s")
    add("issue 18", "options: names and --metrics-file keep ≥ 95% of timer{}'s callbacks/s",
        f"{fmt(on)}/s" if on else None, f"{fmt(off)}/s × 0.95" if off else None,
        safe(lambda: on >= 0.95 * off))

    # Issue 17's targets against @sinonjs/fake-timers (and a wall-clock bound for a simulated
    # year), on real time, for both ways of letting simulated time pass.
    for suffix in ("", "-advance"):
        month, oneoffs, year = (f"virtual-{kind}{suffix}" for kind in ("month", "oneoffs", "year"))
        mine, sinon = m(month, "wall_ms"), get(month, SINON, "wall_ms")
        add("issue 17", f"{month}: at least as fast as sinon",
            f"{fmt(mine)} ms" if mine else None, f"{fmt(sinon)} ms" if sinon else "no sinon",
            safe(lambda: mine <= sinon))
        mine, sinon = m(oneoffs, "wall_ms"), get(oneoffs, SINON, "wall_ms")
        add("issue 17", f"{oneoffs}: ≥ 10x faster than sinon",
            f"{fmt(mine)} ms" if mine else None, f"{fmt(sinon)} / 10 ms" if sinon else "no sinon",
            safe(lambda: mine <= sinon / 10))
        mine = m(year, "wall_ms")
        add("issue 17", f"{year}: under 10 s of real time", f"{fmt(mine)} ms" if mine else None,
            "10,000 ms", safe(lambda: mine < 10000))
    return rows


def chart(cases, results, path) -> Optional[str]:
    """CCDF of lateness per peer (log-log-ish), one panel per lateness workload."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "chart skipped: python3-matplotlib is not installed (scripts/setup --bench)"
    panels = [c for c in cases if c.chart and c.name in results]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.8), squeeze=False)
    colours = {MOCKIT: "tab:red", LUV: "tab:blue", NODE: "tab:green", CYCLIC: "black"}
    for ax, case in zip(axes[0], panels):
        for peer in PEER_ORDER:
            pooled = sorted(x for r in results[case.name].get(peer, [])
                            if r.error is None and r.samples for x in r.samples)
            if not pooled:
                continue
            n = len(pooled)
            surv = [1 - i / n for i in range(n)]
            ax.step(pooled, surv, where="post", label=f"{peer} (n={n})",
                    color=colours.get(peer), linewidth=1.3)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_yscale("log")
        ax.set_xlabel("lateness (µs; symlog, left of 0 = early)")
        ax.set_ylabel("fraction of callbacks later than x")
        ax.set_title(case.name)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle("Timer lateness, all repetitions pooled (further left and lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def machine_info(peers) -> list:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
        with open("/proc/meminfo") as f:
            mem_gb = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1)) / 1024 / 1024
    except OSError:
        mem_gb = 0
    lines = [f"- machine: {platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
             f"{os.cpu_count()} CPUs, {mem_gb:.1f} GB RAM"]
    lines.append("- peers: " + "; ".join(f"{p.name}: {p.version}" for p in peers.values()
                                         if p.available))
    return lines


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# ----------------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--quick", action="store_true",
                    help="one repetition of tiny sizes: checks that everything runs")
    ap.add_argument("--reps", type=int, help="repetitions (default 3, 1 with --quick)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only this workload or case (repeatable); see --list")
    ap.add_argument("--list", action="store_true", help="list the workloads and cases")
    args = ap.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    reps = args.reps or (1 if args.quick else 3)
    if reps < 1:
        ap.error("--reps must be at least 1")
    peers, notes = detect_peers(build_dir)
    cases = build_cases(peers, args.quick)
    if args.list:
        for c in cases:
            print(f"{c.workload:10} {c.name:23} {c.title}")
        return 0
    if args.only:
        known = {c.name for c in cases} | {c.workload for c in cases}
        bad = [o for o in args.only if o not in known]
        if bad:
            ap.error(f"unknown workload {', '.join(bad)}; known: {', '.join(sorted(known))}")
        cases = [c for c in cases if c.name in args.only or c.workload in args.only]
    if not peers[MOCKIT].available:
        print(f"bench: {peers[MOCKIT].note}", file=sys.stderr)
        return 1

    out_dir = os.path.join(build_dir, "results")
    os.makedirs(out_dir, exist_ok=True)
    for n in notes:
        print(f"bench: note: {n}")

    started = datetime.datetime.now().astimezone()
    load_start = loadavg()
    results: dict = {}
    failures = []
    sections = []
    for case in cases:
        order = [p for p in PEER_ORDER if p in case.runners]
        load_before = loadavg()
        for rep in range(reps):
            rot = order[rep % len(order):] + order[:rep % len(order)]
            for peer in rot:
                print(f"bench: {case.name} [{rep + 1}/{reps}] {peer} ...", end="", flush=True)
                run = case.runners[peer]()
                results.setdefault(case.name, {}).setdefault(peer, []).append(run)
                if run.error:
                    print(f" FAILED ({run.seconds:.1f} s): {run.error}")
                    failures.append((case.name, peer, rep + 1, run.error))
                else:
                    print(f" {run.seconds:.1f} s")
        lines = [f"## {case.name}", "", case.title + ".", "",
                 f"Load average before: {load_before}, after: {loadavg()}.", ""]
        lines += table(case, results)
        sections.append(lines)
        print()
        print("\n".join(lines))
        print(flush=True)

    ours = [f for f in failures if f[1] == MOCKIT]
    if failures:
        notes += [f"FAILED: {c} rep {r} {p}: {e}" for c, p, r, e in failures]
    chart_path = os.path.join(out_dir, "lateness.png")
    chart_note = chart(cases, results, chart_path)
    if chart_note:
        notes.append(chart_note)
        print(f"bench: note: {chart_note}")

    target_rows = targets(results, args.quick)
    tlines = ["## Targets (SPEC §5, issues 6, 16 and 17, alloc), on the medians of this run", "",
              "Informational: a missed target never fails the benchmark." +
              (" With --quick the sizes are tiny and the figures mean little." if args.quick else ""),
              "", "| source | target | mockit-run | reference | status |",
              "| --- | --- | ---: | ---: | --- |"]
    for source, text, mine, ref, status in target_rows:
        tlines.append(f"| {source} | {text} | {mine or '—'} | {ref or '—'} | {status} |")

    cmdline = "scripts/bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    head = [
        "# mockit-run side by side with lua5.4 + luv, Node.js and cyclictest", "",
        f"- run: {started:%Y-%m-%d %H:%M %Z}, `{cmdline.strip()}`, {reps} repetition(s), peers "
        "interleaved (order rotated each repetition)",
        *machine_info(peers),
        f"- load average (1/5/15 min) at start: {load_start}, at end: {loadavg()} — other work on "
        "the machine (builds, tests) shows up as lateness tails and slower figures",
        "- cells: median [min..max] over the repetitions; `mockit-run ÷ best peer` divides "
        "mockit-run's median by the best other median (↓: below 1 is better, ↑: above 1 is "
        "better); cyclictest is the floor for wake-up latency",
        "", "![lateness](lateness.png)" if not chart_note else "", "",
    ]
    if notes:
        head += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    md = head + [ln for s in sections for ln in s + [""]] + tlines + [""]
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md))
    raw = {c: {p: [{"values": r.values, "error": r.error, "seconds": r.seconds,
                    "samples": r.samples} for r in runs] for p, runs in ps.items()}
           for c, ps in results.items()}
    with open(os.path.join(out_dir, "raw.json"), "w") as f:
        json.dump(raw, f)

    print("\n".join(tlines))
    print()
    print(f"bench: wrote {os.path.join(out_dir, 'results.md')}, raw.json"
          + ("" if chart_note else ", lateness.png"))
    if ours:
        print(f"bench: FAILED: {len(ours)} mockit-run run(s) crashed or counted wrong:",
              file=sys.stderr)
        for c, p, r, e in ours:
            print(f"  {c} rep {r}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
