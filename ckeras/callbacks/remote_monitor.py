"""RemoteMonitor: POST each epoch's logs to a server (urllib, no requests)."""
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary


class RemoteMonitor(Callback):
    """At each epoch end, POST ``{"epoch": e, **logs}`` to ``root + path``:
    as a JSON body with ``send_as_json``, else as the form field ``field``
    holding that JSON (Keras's default). An unreachable server warns and
    training goes on, as in Keras."""

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/",
                 field="data", headers=None, send_as_json=False, timeout=10):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        if is_secondary():
            return
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
