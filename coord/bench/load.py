"""Load generator, run as a separate process: `python -m coord.bench.load CONFIG_JSON`.

For each route it keeps `concurrency` requests in flight for `seconds` and reports p50/p99 latency and
requests per second. The config names the base URL, a bearer token for the API and an account for
the pages (the generator logs in like a browser).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import sys
import time
from typing import Any

import httpx


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def _login(client: httpx.AsyncClient, email: str, password: str) -> None:
    page = await client.get("/connexion")
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    token = match.group(1) if match else client.cookies.get("coord_csrf", "")
    response = await client.post("/connexion", data={"email": email, "password": password, "_csrf_token": token})
    if response.status_code not in (200, 303):
        raise RuntimeError(f"login failed: {response.status_code}")


async def measure(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code >= 400:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return {
        "route": path,
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
    }


async def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=config["concurrency"] * 2)
    results = []
    async with httpx.AsyncClient(base_url=config["base_url"], limits=limits, timeout=30) as client:
        await _login(client, config["email"], config["password"])
        for route in config["routes"]:
            headers = {"Authorization": f"Bearer {config['token']}"} if route.startswith("/api/") else {}
            await measure(client, route, headers, 2, 0.5)  # warm-up
            result = await measure(client, route, headers, config["concurrency"], config["seconds"])
            results.append(result)
    return results


def main() -> None:
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(run(config))))


if __name__ == "__main__":
    main()
