"""The embedded web server: werkzeug's, with a fixed pool of request threads.

Werkzeug's threaded server starts a new thread per request. The search backend keeps one
index searcher per thread, and opening one on a large index costs a few hundred
milliseconds, so a thread per request would pay that on every results page. Threads that
live on keep their searchers, which are refreshed only when the index changes.
"""

from __future__ import annotations

import gc
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer


class PooledWSGIServer(BaseWSGIServer):
    multithread = True

    def __init__(self, host: str, port: int, app: Flask, threads: int) -> None:
        super().__init__(host, port, app)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="web")

    def process_request(self, request: socket.socket | Any, client_address: Any) -> None:
        self.pool.submit(self._handle, request, client_address)

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def settle_heap() -> None:
    """Leave what exists once the app is built out of every later garbage collection.

    The modules, templates and app objects (almost 200,000) live as long as the process;
    a full collection walking them costs about 90 ms, and one lands in the middle of a
    broad search every few requests.
    """
    gc.collect()
    gc.freeze()


def make_server(host: str, port: int, app: Flask) -> PooledWSGIServer:
    settle_heap()
    return PooledWSGIServer(host, port, app, app.config["WEB_THREADS"])
