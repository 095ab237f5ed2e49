"""A TCP proxy the chaos suite can cut: the machine's PostgreSQL is shared, so it is never stopped.

The Rasa instances reach the tracker store's database, and the action server the account database,
through one of these. `cut` closes every open connection and makes new ones close at once (what a
database that went down looks like to a client); `restore` lets connections through again.
"""
from __future__ import annotations

import socket
import threading


class CuttableProxy:
    """127.0.0.1:<port> forwarded to ``target``, until cut."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.cut_now = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, name=f"proxy-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut_now:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self) -> None:
        """The database is gone: open connections drop, new ones are closed at once."""
        self.cut_now = True
        with self._lock:
            live = list(self._open)
        for end in live:
            self._close(end)

    def restore(self) -> None:
        self.cut_now = False

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self._listener.close()
