"""Network egress by name (as tests/live/test_broker.c): Policy.allow_host and
the egress broker, with Python's urllib in the sandbox using the proxy
variables the library sets."""

import http.server
import threading

import pytest

import agentsbx
from conftest import PY


class _Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("origin %s %s\n" % (self.headers.get("Host"), self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def origin():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


FETCH = ("import urllib.request, urllib.error, sys\n"
         "try:\n"
         "    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(), end='')\n"
         "except urllib.error.HTTPError as e:\n"
         "    print(e.code, e.headers.get('X-Agentsbx-Reason'))\n")


def test_network__urllib_through_broker(policy, origin):
    if agentsbx.landlock_abi() < 4:
        pytest.skip("Landlock ABI < 4: host grants need TCP rules")
    policy.allow_host("origin.test:%d" % origin).broker_resolve("origin.test", "127.0.0.1")
    r = policy.run([PY, "-c", FETCH, "http://origin.test:%d/py" % origin], capture_output=True)
    assert r.status == "exited" and r.exit_code == 0, r.json
    assert r.stdout == ("origin origin.test:%d /py\n" % origin).encode()
    assert r.json["network"]["connections"] == 1 and r.json["network"]["bytes_down"] > 0
    r = policy.run([PY, "-c", FETCH, "http://other.test:%d/" % origin], capture_output=True)
    assert r.stdout == b"403 host not allowed\n"
    d = r.json["network"]["denied"]
    assert [(x["host"], x["port"], x["reason"]) for x in d] == [("other.test", origin,
                                                                 "host not allowed")]


def test_network__allow_host_bad_input(policy):
    with pytest.raises(agentsbx.InvalidArgumentError, match="empty label"):
        policy.allow_host("a..b")
    with pytest.raises(agentsbx.InvalidArgumentError, match="wildcard"):
        policy.broker_resolve("*.a.test", "127.0.0.1")
    with pytest.raises(TypeError):
        policy.allow_host(None)
