"""What the benchmark's load generator needs from Coord before it starts: a logged-in session.

The benchmark logs in once like a browser (the login form and its CSRF token), then hands the
session cookie to `wrk`, and checks that every route answers 200 with it (`wrk` counts redirects,
such as the one to the login page, as successes).
"""

from __future__ import annotations

import logging
import re
import subprocess
import time

import httpx

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the tables


def session_cookie(base_url: str, email: str, password: str) -> str:
    """A `Cookie` header value for a session of `email`."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        page = client.get("/connexion")
        match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        token = match.group(1) if match else client.cookies.get("coord_csrf", "")
        response = client.post("/connexion", data={"email": email, "password": password, "_csrf_token": token})
        if response.status_code not in (200, 303):
            raise RuntimeError(f"login failed: {response.status_code}")
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies.jar)


def statuses(base_url: str, routes: list[tuple[str, dict[str, str]]], *, repeat: int = 1) -> dict[str, int]:
    """The status of each route with its headers (redirects not followed), asked `repeat` times on
    fresh connections, so every server process has served it once before it is measured; the first
    status other than 200, else 200."""
    found = {}
    for route, headers in routes:
        codes = [httpx.get(base_url + route, headers=headers, timeout=60).status_code for _ in range(repeat)]
        found[route] = next((code for code in codes if code != 200), 200)
    return found


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Wait for `url` to answer (a cold start imports the app and, at national scale, warms nothing)."""
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped at start (exit {process.returncode})")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on {url}")
