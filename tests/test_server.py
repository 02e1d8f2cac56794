"""The embedded web server answers from a fixed pool of threads, so each thread's index
searcher lives on between requests."""

from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from inquiry_docs.web.server import make_server
from tests.conftest import build_app


def test_requests_are_answered_by_a_fixed_pool_of_threads(tmp_path):
    app = build_app(tmp_path, WEB_THREADS=2)
    app.add_url_rule("/_thread", "thread_name", lambda: threading.current_thread().name)
    server = make_server("127.0.0.1", 0, app)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_port}/_thread"
    try:
        with ThreadPoolExecutor(4) as clients:
            names = list(clients.map(lambda _: urllib.request.urlopen(url).read().decode(),
                                     range(12)))
    finally:
        server.shutdown()
        server.server_close()
    assert len(names) == 12
    assert set(names) <= {"web_0", "web_1"}
