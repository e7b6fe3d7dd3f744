"""HTTP/1.1 plumbing of the local Bot API: ``http.server`` threads, one per connection.

:class:`Server` accepts connections (a deep backlog, for benchmarks with many clients) and
tracks them, so that stopping can shut every connection down, a held long poll included, and
join its thread. :class:`Handler` reads a request body (``Content-Length`` or chunked), hands
the request to the ``serve_request`` callable the server was given (``LocalBotApi._serve``)
and writes the answer; a client that went away is not an error.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

_LOG = logging.getLogger(__name__)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "TemoinLocalBotApi/1"

    def do_GET(self) -> None:
        cast(Server, self.server).serve_request(self)

    def do_POST(self) -> None:
        cast(Server, self.server).serve_request(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def respond(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client went away (a cancelled long poll, typically)
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], serve_request: Callable[[Handler], None]) -> None:
        super().__init__(address, Handler)
        self.serve_request = serve_request
        self._connections_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._process_tracked,
            args=(request, client_address),
            name=f"botapi-conn-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _process_tracked(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _LOG.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        """Shut every open connection down and wait for their threads."""
        for how in (socket.SHUT_RD, socket.SHUT_RDWR):
            with self._connections_lock:
                connections = list(self._connections.items())
            for _, sock in connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(how)
            deadline = time.monotonic() + timeout / 2
            for thread, _ in connections:
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._connections_lock:
            left = len(self._connections)
        if left:
            _LOG.warning("%d connection threads still running after stop", left)
