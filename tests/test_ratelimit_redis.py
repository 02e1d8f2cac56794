"""Sign-in throttling kept in Redis is shared by every process serving the app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from inquiry_docs import config
from tests.conftest import PASSWORD, build_app, make_config, make_user

# A second process: its own app instance, sharing only the database and Redis with the test.
SECOND_PROCESS = """
import json, sys
from inquiry_docs import create_app
client = create_app(json.loads(sys.argv[1])).test_client()
codes = [client.post("/auth/login", data={"email": sys.argv[2], "password": "a wrong guess"},
                     environ_base={"REMOTE_ADDR": "10.0.7.1"}).status_code for _ in range(3)]
print(json.dumps(codes))
"""


def _post(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": "10.0.7.1"})


def test_two_processes_share_the_sign_in_throttle_through_the_queues_redis(tmp_path: Path,
                                                                          redis_url: str):
    app = build_app(tmp_path, QUEUE_URL=redis_url)  # no RATELIMIT_STORAGE_URL set
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        member = make_user("reader@example.org", "reader", create_inquiry("OLD", "Oldham"))
        client = app.test_client()
        assert [_post(client, member.email, "a wrong guess").status_code
                for _ in range(3)] == [400] * 3
        second = subprocess.run(
            [sys.executable, "-c", SECOND_PROCESS,
             json.dumps(make_config(tmp_path, QUEUE_URL=redis_url)), member.email],
            capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr[-2000:]
        # The limit is 5: the second process saw this one's 3 failures...
        assert json.loads(second.stdout.splitlines()[-1]) == [400, 400, 429]
        # ...and this one sees the second's, even with the right password.
        assert _post(client, member.email, PASSWORD).status_code == 429


def test_throttle_storage_is_the_setting_else_the_queues_redis_else_memory():
    assert config.ratelimit_storage({"RATELIMIT_STORAGE_URL": "redis://cache:6379/2",
                                     "QUEUE_URL": "redis://queue:6379/0"}) == \
        "redis://cache:6379/2"
    assert config.ratelimit_storage({"RATELIMIT_STORAGE_URL": "",
                                     "QUEUE_URL": "redis://queue:6379/0"}) == \
        "redis://queue:6379/0"
    assert config.ratelimit_storage({"QUEUE_URL": "sqlite:////srv/queue.db"}) == "memory://"
    loaded = config.load({"INQUIRY_DOCS_QUEUE_URL": "rediss://queue:6380/1"})
    assert config.ratelimit_storage(loaded) == "rediss://queue:6380/1"
