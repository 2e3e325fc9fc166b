"""What the client procedures share: their inputs, a recorder of every HTTP
request a client makes, and the JSON report they print.

Inputs come from the environment (set by test/compat/*.test.ts):
  EVS_GATEWAY_URL                     the gateway, e.g. http://127.0.0.1:18080
  EVS_PROJECT_A, EVS_TOKEN_A          the owner of the disks (the Huawei SDK takes
                                      an access key instead: EVS_AK_A, EVS_SK_A)
  EVS_PROJECT_B, EVS_TOKEN_B          the recipient (EVS_AK_B, EVS_SK_B)
  EVS_VOLUME_ID                       a disk of A, transferred to B and accepted
  EVS_VOLUME_ID_2                     a disk of A, transferred and then deleted
  EVS_API_VERSION                     optional: the client's API version

The report (stdout, one JSON document):
  {"client": {...versions}, "steps": [{"step", "ok", "value" | "error"}],
   "requests": [{"method", "path", "status", "token", "signed", "api_version", "request_id"}]}
A step that raises is recorded, not fatal: the test asserts which steps must
fail and how. Anything else going wrong exits non-zero with a traceback.
"""
import json
import os
import sys
import urllib.parse

import requests


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f'missing environment variable {name}')
    return value


class Recorder:
    """Records each request a requests.Session sends, with its answer."""

    def __init__(self):
        self.requests = []

    def session(self):
        """A new requests.Session that records."""
        return self.attach(requests.Session())

    def attach(self, session):
        """Makes an existing requests.Session record."""
        session.hooks['response'].append(self.record)
        return session

    def record(self, response, *args, **kwargs):
        """Records one answered request (a requests.Response)."""
        request = response.request
        url = urllib.parse.urlsplit(request.url)
        self.requests.append({
            'method': request.method,
            'path': url.path + (f'?{url.query}' if url.query else ''),
            'status': response.status_code,
            'token': 'X-Auth-Token' in request.headers,
            'signed': request.headers.get('Authorization', '').startswith('SDK-HMAC-SHA256 '),
            'api_version': request.headers.get('OpenStack-API-Version'),
            'request_id': response.headers.get('X-OpenStack-Request-Id'),
        })


def jsonable(value):
    return json.loads(json.dumps(value, default=str))


class Procedure:
    def __init__(self, client_info):
        self.client = client_info
        self.steps = []
        self.recorder = Recorder()

    def step(self, name, fn, describe_error):
        """Runs one client call; records its value or its exception."""
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is data here
            self.steps.append({'step': name, 'ok': False, 'error': describe_error(exc)})
            return None
        self.steps.append({'step': name, 'ok': True, 'value': jsonable(value)})
        return value

    def report(self):
        json.dump({'client': self.client, 'steps': self.steps, 'requests': self.recorder.requests}, sys.stdout)
        sys.stdout.write('\n')


# A well-formed key that is not the transfer's (keys are 16 lowercase hex characters).
def wrong_key(auth_key):
    return '0123456789abcdef' if auth_key != '0123456789abcdef' else 'fedcba9876543210'
