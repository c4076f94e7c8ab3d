"""A webhook receiver on loopback for tests: records every POST, and can fail the first ones."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Received = list[tuple[dict[str, str], bytes, int]]  # (headers, body, the status answered)


class Receiver:
    """An HTTP endpoint on loopback that records what it is sent; it answers 500 to the first
    ``fail_first`` requests, then 204."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: Received = []
        self._fail_first = fail_first
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    answer = 500 if len(receiver.received) < receiver._fail_first else 204
                    receiver.received.append((dict(self.headers), body, answer))
                self.send_response(answer)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, condition: Callable[[Received], bool], *, timeout_s: float = 60) -> Received:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self.received):
                    return list(self.received)
            time.sleep(0.2)
        raise AssertionError(f"the receiver got only {self.received!r}")
