"""The small JSON client the e2e scripts share."""
import json
import os
import urllib.request

BASE = os.environ["BOOKLINE_URL"]


def call(method, path, body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers=headers)
    return json.load(urllib.request.urlopen(request))
