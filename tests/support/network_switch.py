"""A switchable TCP link on 127.0.0.1 in front of the gateway: the app's network, cut or held.

Bytes are forwarded both ways unchanged (HTTP and the realtime websocket alike). ``cut()``
closes every open connection and resets new ones at once (the gateway is unreachable);
``restore()`` lets connections through again. ``hold()`` stops forwarding without closing
anything (a request in flight), ``release()`` lets the held bytes go on.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

CHUNK = 65536
HOLD_LIMIT = 60.0


class NetworkSwitch:
    """Listens on a free loopback port and forwards to ``upstream_port`` while connected."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connected = True
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="network switch", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NetworkSwitch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closed = True
        self.release()
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=10)

    # --- the switch ---------------------------------------------------------------------------
    def cut(self) -> None:
        """Unplug: every open connection is reset, new ones are refused."""
        with self._lock:
            self._connected = False
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        """Plug back in."""
        with self._lock:
            self._connected = True

    def hold(self) -> None:
        """Stop forwarding (connections stay open; nothing is lost)."""
        self._flowing.clear()

    def release(self) -> None:
        """Forward what was held, and everything after it."""
        self._flowing.set()

    # --- forwarding ---------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                connected = self._connected and not self._closed
            if not connected:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, target), name="switch pump", daemon=True
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                self._flowing.wait(HOLD_LIMIT)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._open.discard(source)
                self._open.discard(target)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a dropped link looks to the other side."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
