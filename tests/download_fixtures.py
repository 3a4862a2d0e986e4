"""Fixtures for the download tests (datasets, get_file): a temporary
KERAS_HOME, and a loopback HTTP server standing in for Keras's origins (no
test touches the network)."""
import functools
import hashlib
import http.server
import os
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

_REAL_URLOPEN = urllib.request.urlopen  # before any test patches it


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


class Origin:
    """Files put in ``root`` are served; every requested URL is recorded.
    Requests for any host are answered from ``root`` by file name."""

    def __init__(self, root):
        self.root = root
        self.requested = []

    def put(self, name, data):
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(data)
        return hashlib.sha256(data).hexdigest()


@pytest.fixture
def origin(tmp_path, monkeypatch):
    root = tmp_path / "origin"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served = Origin(str(root))

    def local_urlopen(url, *args, **kwargs):
        served.requested.append(url)
        name = os.path.basename(urllib.parse.urlsplit(url).path)
        return _REAL_URLOPEN(f"http://127.0.0.1:{server.server_port}/{name}", *args, **kwargs)

    from ckeras.utils import file_utils
    monkeypatch.setattr(file_utils.urllib.request, "urlopen", local_urlopen)
    yield served
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def offline(monkeypatch):
    """Every download fails as it does without a network."""
    from ckeras.utils import file_utils

    def refuse(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(file_utils.urllib.request, "urlopen", refuse)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """A test that forgot `origin`/`offline` fails instead of downloading."""
    from ckeras.utils import file_utils

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"test tried to download {url}")
    monkeypatch.setattr(file_utils.urllib.request, "urlopen", refuse)
