"""One HTTP JSON client for the bank's services (customer directory, accounts, registration agent).

Each call has a short timeout; a connection refused before the request was sent, and HTTP 502/503/504,
are retried; a request the service may have seen is not (an account check counts towards the customer's
lockout on the bank's side, a registration hands out a single-use code). Every failure is raised as the
caller's own "unavailable" exception, so each port keeps its vocabulary.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request


class JsonService:
    def __init__(self, base_url: str, unavailable: type[Exception], timeout: float = 5.0, retries: int = 2,
                 backoff: float = 0.2):
        self.base_url = base_url.rstrip("/")
        self.unavailable = unavailable
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        # no proxy from the environment: the bank's services are configured, not discovered
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(self, path: str, payload: dict) -> dict:
        body = json.dumps(payload).encode()
        last_error: Exception | None = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.base_url + path, data=body, method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    answer = json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                if exc.code in (502, 503, 504) and attempt < self.retries:
                    last_error = exc
                else:
                    raise self.unavailable(f"{path}: HTTP {exc.code}") from exc
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionRefusedError) or attempt >= self.retries:
                    raise self.unavailable(f"{path}: {exc.reason}") from exc
                last_error = exc
            except (TimeoutError, json.JSONDecodeError, http.client.HTTPException, ConnectionError) as exc:
                # a service that drops the connection without an answer (RemoteDisconnected) is one that
                # did not answer: never a 500 on the customer's screen
                raise self.unavailable(f"{path}: {type(exc).__name__}") from exc
            else:
                if not isinstance(answer, dict):
                    raise self.unavailable(f"{path}: the answer is not a JSON object")
                return answer
            time.sleep(self.backoff * (attempt + 1))
        raise self.unavailable(f"{path}: {last_error}")
