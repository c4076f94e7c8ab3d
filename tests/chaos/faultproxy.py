"""A small TCP fault proxy on loopback: put it between docflow and one service to make a
network fault without touching the service itself.

Modes (switchable while running):
* ``pass``      — forward bytes both ways;
* ``delay``     — forward, sleeping ``delay_s`` before each chunk;
* ``blackhole`` — accept connections and swallow everything (the peer hangs until its timeout);
* ``reset``     — refuse service: new and existing connections are closed with RST.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.delay_s = 0.5
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((listen_host, 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_mode(self, mode: str) -> None:
        assert mode in {"pass", "delay", "blackhole", "reset"}, mode
        self.mode = mode
        if mode == "reset":
            self._reset_all()

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._reset_all()

    @staticmethod
    def _rst(sock: socket.socket) -> None:
        try:  # SO_LINGER 0 turns close() into a TCP reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass

    def _reset_all(self) -> None:
        with self._lock:
            sockets, self._sockets = set(self._sockets), set()
        for sock in sockets:
            self._rst(sock)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.mode == "reset":
                self._rst(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._rst(client)
            return
        with self._lock:
            self._sockets.update({client, upstream})
        pair = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if self.mode == "blackhole":
                        continue
                    if self.mode == "delay":
                        time.sleep(self.delay_s)
                    pair[sock].sendall(data)
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                try:
                    sock.close()
                except OSError:
                    pass
