"""A TCP proxy between docflow's clients and one service that can turn into a half-open peer.

``black_hole()`` models a network path that dies without a FIN or RST: every connection open at
that moment, and every connection accepted until ``restore()``, stays open on both sides but no
byte is forwarded in either direction any more (the proxy stops reading, so a large upload also
stalls once the socket buffers are full). Nothing tells the client: only its own timeouts can.
After ``restore()`` new connections are forwarded again; the black-holed ones never come back (a
half-open peer does not heal), so a client must notice, drop them and reconnect.

The service side of a black-holed connection also stays open (the server sees a silent client),
until :meth:`TcpProxy.close`: whatever that session holds on the server — a PostgreSQL row lock
of an open transaction — stays held until the server's own timeouts end it, as after a real
partition.

One thread accepts; each forwarded connection has two pump threads (blocking sockets: a slow
peer stalls only its own connection). Loopback only.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


@dataclass
class _Link:
    client: socket.socket
    upstream: socket.socket | None
    dead: threading.Event = field(default_factory=threading.Event)
    closed: bool = False


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``; switch to a black hole and back on demand."""

    def __init__(self, upstream: tuple[str, int], *, name: str = "", listen_host: str = "127.0.0.1", port: int = 0):
        self.upstream = upstream
        self.name = name or f"proxy->{upstream[1]}"
        self._listener = socket.create_server((listen_host, port), reuse_port=False)
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._holing = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name=f"{self.name}-accept", daemon=True)
        self.accepted = 0
        self.black_holed = 0  # connections that went silent (open at black_hole() or accepted during it)
        self.black_hole_started: float | None = None
        self.restored_at: float | None = None

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting and close every connection, black-holed ones included (both sides)."""
        self._stopping.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            self._close(link)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    # -- faults ------------------------------------------------------------------------------------

    def black_hole(self) -> None:
        """From now on nothing is forwarded: open connections go silent, new ones are accepted and ignored."""
        with self._lock:
            self._holing = True
            self.black_hole_started = time.monotonic()
            for link in self._links:
                if not link.dead.is_set():
                    link.dead.set()
                    self.black_holed += 1
        log.info("%s: black hole (%d connections silenced)", self.name, self.black_holed)

    def restore(self) -> None:
        """New connections are forwarded again; the silenced ones stay silent."""
        with self._lock:
            self._holing = False
            self.restored_at = time.monotonic()

    def live_connections(self) -> int:
        with self._lock:
            return sum(1 for link in self._links if not link.closed and not link.dead.is_set())

    # -- internals ---------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self.accepted += 1
            with self._lock:
                holing = self._holing
            if holing:
                # Accepted by the kernel and never answered: connect() succeeds, the handshake hangs.
                link = _Link(client, None)
                link.dead.set()
                with self._lock:
                    self._links.append(link)
                    self.black_holed += 1
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()  # the service itself is down: refuse, as it would
                continue
            upstream.settimeout(None)
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
            for source, target, direction in ((client, upstream, "up"), (upstream, client, "down")):
                threading.Thread(
                    target=self._pump, args=(link, source, target), name=f"{self.name}-{direction}", daemon=True
                ).start()

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket) -> None:
        while not link.dead.is_set():
            try:
                data = source.recv(_CHUNK)
            except OSError:
                data = b""
            if link.dead.is_set():
                break  # black-holed while waiting: this chunk is never delivered
            if not data:
                self._close(link)  # an orderly close (or a reset) is passed on: only silence is the fault
                return
            try:
                target.sendall(data)
            except OSError:
                self._close(link)
                return
        # Silent from here on; the sockets stay open until close().

    def _close(self, link: _Link) -> None:
        if link.closed:
            return
        link.closed = True
        for sock in (link.client, link.upstream):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
