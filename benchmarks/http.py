"""Rate questions over HTTP and batch answers, on the bundled timeline.

    python -m benchmarks.http                       (SQLite only)
    .ci/postgres.sh python -m benchmarks.http       (also PostgreSQL, 1 and 4 workers)

- HTTP: a real `tariffs serve` on a free loopback port; a fixed, seeded sample of rate
  questions (origins x HTS codes x entry dates) sent by a few client threads, each request
  once, after a warm-up: the server's own time per request (its Server-Timing header; median
  and p99) and requests per second over the whole loop. SQLite with 1 worker; PostgreSQL
  (TARIFFS_TEST_POSTGRES_URL or --postgres URL) with 1 and 4 workers.
- Batch: rows per second through `tariffs rate --input FILE.csv --output FILE.csv` (a child
  process, its peak RSS from wait4) at three sizes, to show memory stays flat; and through
  POST /v1/rate/batch (CSV in, JSON Lines out) on the SQLite server at the same sizes.

Results are printed and written to benchmarks/results/http-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).resolve().parent / "results"
TARIFFS = str(Path(sys.executable).parent / "tariffs")
ORIGINS = ("JP", "CN", "CA", "MX", "DE", "GB", "KR", "BR", "IN", "VN", "CH")
CODES = ("8703.23.01", "9503.00.00", "7208.10.15", "7601.10.30", "8471.30.01", "0901.11.00",
         "8542.31.00", "3004.90.92", "4407.11.00", "8708.29.51")
FIRST, DAYS = date(2025, 1, 1), 540


def questions(count: int, seed: int) -> list[dict[str, str]]:
    """A seeded sample of rate questions (entry dates over 2025 to mid-2026)."""
    chance = random.Random(seed)
    return [{"origin": chance.choice(ORIGINS), "hts": chance.choice(CODES),
             "entered": (FIRST + timedelta(days=chance.randrange(DAYS))).isoformat(),
             "mfn": str(chance.choice((0, 2.5, 4.4, 6.5)))} for _ in range(count)]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFFS_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"))
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load(db: str, home: Path) -> None:
    """Import the bundled timeline into a store."""
    subprocess.run([TARIFFS, "import", "--db", db], env=_env(home), check=True,
                   capture_output=True, timeout=600)


def serve(db: str, workers: int, home: Path) -> tuple[subprocess.Popen[str], str]:
    """A running `tariffs serve` and its base URL (waits up to two minutes for it)."""
    port = _free_port()
    process = subprocess.Popen([TARIFFS, "serve", "--db", db, "--port", str(port),
                                "--workers", str(workers)], env=_env(home), text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)  # the port is not open yet
    process.kill()
    raise RuntimeError("the server did not start")


def stop(process: subprocess.Popen[str]) -> None:
    """Stop a server, killing it if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load_loop(url: str, sample: list[dict[str, str]], clients: int) -> dict[str, Any]:
    """Send every question once from `clients` threads: server times and requests/s."""
    server_ms: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    shares = [sample[i::clients] for i in range(clients)]

    def client(share: list[dict[str, str]]) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for params in share:
                response = http.get("/v1/rate", params=params)
                timing = response.headers.get("server-timing", "app;dur=nan")
                with lock:
                    if response.status_code != 200:
                        failures.append(response.status_code)
                    server_ms.append(float(timing.split("dur=")[1]))

    for params in sample[:20]:  # warm up: connections, caches, the read model's catch-up
        httpx.get(url + "/v1/rate", params=params, timeout=120)
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(server_ms)
    return {"requests": len(sample), "clients": clients, "failures": len(failures),
            "seconds": round(seconds, 3), "requests_per_s": round(len(sample) / seconds, 1),
            "server_median_ms": round(statistics.median(ordered), 2),
            "server_p99_ms": round(ordered[min(len(ordered) - 1,
                                               int(len(ordered) * 0.99))], 2)}


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """A question file."""
    lines = ["origin,hts,entered,mfn"] + [
        f"{r['origin']},{r['hts']},{r['entered']},{r['mfn']}" for r in rows]
    path.write_text("\n".join(lines) + "\n")


def cli_batch(db: str, rows: int, folder: Path, home: Path, seed: int) -> dict[str, Any]:
    """`tariffs rate --input --output` over `rows` questions: rows/s and the child's peak
    RSS."""
    source, target = folder / f"q{rows}.csv", folder / f"a{rows}.csv"
    write_csv(source, questions(rows, seed))
    started = time.perf_counter()
    process = subprocess.Popen([TARIFFS, "rate", "--input", str(source), "--output",
                                str(target), "--db", db], env=_env(home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"tariffs rate --input exited {process.returncode}")
    # ru_maxrss is in KiB on Linux: the high-water mark of that child alone.
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def http_batch(url: str, rows: int, seed: int) -> dict[str, Any]:
    """POST /v1/rate/batch with `rows` questions as CSV, read back as JSON Lines: rows/s."""
    sample = questions(rows, seed)
    body = "origin,hts,entered,mfn\n" + "".join(
        f"{r['origin']},{r['hts']},{r['entered']},{r['mfn']}\n" for r in sample)
    started = time.perf_counter()
    answered = 0
    with httpx.stream("POST", url + "/v1/rate/batch", content=body, timeout=3600,
                      headers={"Content-Type": "text/csv"}) as response:
        for line in response.iter_lines():
            answered += bool(line)
    seconds = time.perf_counter() - started
    return {"rows": rows, "answered": answered, "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds, 1)}


def main(argv: list[str] | None = None) -> None:
    """Run every measurement once and report it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="HTTP requests per run")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--batch-sizes", default="2000,20000,40000",
                        help="batch sizes (rows), comma-separated")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--postgres", default=os.environ.get("TARIFFS_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: TARIFFS_TEST_POSTGRES_URL)")
    args = parser.parse_args(argv)
    sample = questions(args.requests, args.seed)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    report: dict[str, Any] = {"machine": {"python": platform.python_version(),
                                          "cpus": os.cpu_count(), "node": platform.node()},
                              "http": [], "cli_batch": [], "http_batch": []}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        sqlite = f"sqlite:///{folder / 'bench.sqlite'}"
        load(sqlite, folder)
        stores = [("sqlite", sqlite, 1)]
        if args.postgres:
            pg = f"{args.postgres}?schema=bench_{uuid.uuid4().hex[:8]}"
            load(pg, folder)
            stores += [("postgresql", pg, 1), ("postgresql", pg, 4)]
        for name, db, workers in stores:
            process, url = serve(db, workers, folder)
            try:
                result = {"store": name, "workers": workers,
                          **load_loop(url, sample, args.clients)}
                if name == "sqlite":
                    for rows in sizes:
                        report["http_batch"].append(http_batch(url, rows, args.seed))
            finally:
                stop(process)
            report["http"].append(result)
            print(json.dumps(result), flush=True)
        for rows in sizes:
            result = cli_batch(sqlite, rows, folder, folder, args.seed)
            report["cli_batch"].append(result)
            print(json.dumps(result), flush=True)
    print(json.dumps(report["http_batch"]))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"http-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
