#!/usr/bin/python3
"""Local servers for real clients through the egress broker (test_clients.c).

    clients_origin.py ROOT [CERT KEY]

Makes its content beneath ROOT (an existing, empty directory), listens on
127.0.0.1, an ephemeral port, prints the port on one line, and serves until
killed (over TLS with CERT KEY):

- /data.bin: 64 KiB of random bytes (a plain download; ROOT/data.bin).
- /git/demo.git: a repository over smart HTTP, `git http-backend` run as a
  CGI program (GIT_PROJECT_ROOT=ROOT/git); its files are in ROOT/git-src
  (README and data.bin, 32 KiB of random bytes).
- /simple/: a PEP 503 index with one project, agentsbx-demo 1.0, a wheel of
  ROOT/files/ made here with zipfile (its module carries 32 KiB of random
  bytes, base64: the wheel does not compress them away).
- /agentsbx-demo: an npm package document, whose dist.tarball points at this
  server under the Host the request named; the tarball, made here with
  tarfile, is ROOT/npm/agentsbx-demo-1.0.0.tgz (package/data.bin: 32 KiB of
  random bytes, also ROOT/npm-src/data.bin).

Only the standard library; the test stops it by its pid."""
import base64
import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile

ROOT = os.path.abspath(sys.argv[1])
GIT_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": ROOT,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_git():
    src = os.path.join(ROOT, "git-src")
    write(os.path.join(src, "README"), b"cloned through the broker\n")
    write(os.path.join(src, "data.bin"), os.urandom(32768))
    git = ["git", "-C", src]
    for args in (["init", "-q", "-b", "main"], ["add", "README", "data.bin"],
                 ["commit", "-q", "-m", "first"]):
        subprocess.run(git + args, env=GIT_ENV, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", src,
                    os.path.join(ROOT, "git", "demo.git")], env=GIT_ENV, check=True)


def make_wheel():
    name, version = "agentsbx_demo", "1.0"
    info = "%s-%s.dist-info" % (name, version)
    files = {
        name + "/__init__.py": b"DATA = %r\n" % base64.b64encode(os.urandom(32768)),
        info + "/METADATA": b"Metadata-Version: 2.1\nName: agentsbx-demo\nVersion: 1.0\n",
        info + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = ""
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record += "%s,sha256=%s,%d\n" % (path, digest.decode(), len(data))
    files[info + "/RECORD"] = (record + info + "/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    wheel = "%s-%s-py3-none-any.whl" % (name, version)
    write(os.path.join(ROOT, "files", wheel), buf.getvalue())
    sha = hashlib.sha256(buf.getvalue()).hexdigest()
    write(os.path.join(ROOT, "simple", "index.html"),
          b'<!DOCTYPE html><html><body><a href="agentsbx-demo/">agentsbx-demo</a></body></html>\n')
    write(os.path.join(ROOT, "simple", "agentsbx-demo", "index.html"),
          ('<!DOCTYPE html><html><body><a href="../../files/%s#sha256=%s">%s</a>'
           '</body></html>\n' % (wheel, sha, wheel)).encode())


def make_npm():
    files = {
        "package/package.json": b'{"name":"agentsbx-demo","version":"1.0.0","main":"index.js"}\n',
        "package/index.js": b'module.exports = () => "installed through the broker";\n',
        "package/data.bin": os.urandom(32768),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for path, data in files.items():
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    tgz = buf.getvalue()
    write(os.path.join(ROOT, "npm-src", "data.bin"), files["package/data.bin"])
    write(os.path.join(ROOT, "npm", "agentsbx-demo-1.0.0.tgz"), tgz)
    return {
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
        "shasum": hashlib.sha1(tgz).hexdigest(),
    }


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                out += self.rfile.read(n)
                self.rfile.readline()
                if n == 0:
                    return out
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def git(self):
        path, _, query = self.path[len("/git"):].partition("?")
        env = dict(GIT_ENV, GIT_PROJECT_ROOT=os.path.join(ROOT, "git"), GIT_HTTP_EXPORT_ALL="1",
                   PATH_INFO=path, QUERY_STRING=query, REQUEST_METHOD=self.command,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   REMOTE_ADDR=self.client_address[0])
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        data = self.body() if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(data))
        out = subprocess.run(["git", "http-backend"], input=data, env=env,
                             stdout=subprocess.PIPE, check=False).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)

    def npm_document(self):
        scheme = "https" if TLS else "http"
        host = self.headers.get("Host")
        doc = {
            "name": "agentsbx-demo",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": {
                "name": "agentsbx-demo", "version": "1.0.0", "main": "index.js",
                "dist": dict(NPM_DIST, tarball="%s://%s/npm/agentsbx-demo-1.0.0.tgz" % (
                    scheme, host)),
            }},
        }
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/git/"):
            return self.git()
        if self.path.split("?")[0] == "/agentsbx-demo":
            return self.npm_document()
        return super().do_GET()

    def do_POST(self):
        if self.path.startswith("/git/"):
            return self.git()
        self.send_error(405)

    def log_message(self, *args):
        pass


TLS = len(sys.argv) == 4
write(os.path.join(ROOT, "data.bin"), os.urandom(65536))
make_git()
make_wheel()
NPM_DIST = make_npm()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_origin import serve  # noqa: E402 (beside this file)

if TLS:
    serve(Handler, sys.argv[2], sys.argv[3])
else:
    serve(Handler)
