"""The seed procedure through python-openstackclient (the `openstack` CLI),
unchanged, as a user types it against a cloud without Keystone: the
admin_token auth type, the project's endpoint, and --os-volume-api-version
when EVS_API_VERSION is set. Each step is one `openstack ... -f json` command
line, run in a fresh Python process through OSC's own entry point (as a
shell would run it: nothing cached between commands) with every HTTP
request it makes recorded.

  A: creates a transfer of a disk by its name, and of another by its id
  A: shows the first, lists the transfers
  B: accepts the first
  A's and B's `volume list`: the disk has moved
  A: deletes the second transfer, and lists again
  A: asks for a transfer of a volume whose name two volumes share (refused)

Run by test/compat/osc.test.ts; see compat_common.py for inputs and the
report (EVS_VOLUME_NAME, EVS_VOLUME_ID_2 and EVS_TWIN_NAME besides).
"""
import contextlib
import io
import json
import subprocess
import sys
from importlib.metadata import version as installed

import requests
from openstackclient import shell as osc_shell

from compat_common import Procedure, env


class CommandFailed(Exception):
    def __init__(self, code, stderr):
        super().__init__(stderr.strip().splitlines()[-1] if stderr.strip() else f'exit {code}')
        self.code = code
        self.stderr = stderr


def describe_error(exc):
    if isinstance(exc, CommandFailed):
        return {'type': type(exc).__name__, 'module': type(exc).__module__, 'code': exc.code, 'message': str(exc), 'text': exc.stderr[-2000:]}
    return {'type': type(exc).__name__, 'module': type(exc).__module__, 'text': str(exc)}


def main():
    gateway = env('EVS_GATEWAY_URL').rstrip('/')
    api_version = env('EVS_API_VERSION', '')
    procedure = Procedure({
        'name': 'python-openstackclient',
        'version': installed('python-openstackclient'),
        'openstacksdk': installed('openstacksdk'),
        'keystoneauth1': installed('keystoneauth1'),
        'api_version': api_version or 'default',
    })

    def openstack(project, token, *args):
        argv = [
            '--os-auth-type', 'admin_token',
            '--os-endpoint', f'{gateway}/v3/{project}',
            '--os-token', token,
            *(['--os-volume-api-version', api_version] if api_version else []),
            *args,
        ]
        child = subprocess.run([sys.executable, __file__, '--one', *argv], capture_output=True, text=True, timeout=60, check=False)
        if child.returncode != 0:
            raise CommandFailed(child.returncode, child.stderr)
        result = json.loads(child.stdout)
        procedure.recorder.requests.extend(result['requests'])
        if result['code'] != 0:
            raise CommandFailed(result['code'], result['stderr'])
        text = result['stdout'].strip()
        return json.loads(text) if text else None

    project_a, token_a = env('EVS_PROJECT_A'), env('EVS_TOKEN_A')
    project_b, token_b = env('EVS_PROJECT_B'), env('EVS_TOKEN_B')
    a = lambda *args: openstack(project_a, token_a, *args)  # noqa: E731
    b = lambda *args: openstack(project_b, token_b, *args)  # noqa: E731
    step = lambda name, fn: procedure.step(name, fn, describe_error)  # noqa: E731

    created = step('create_by_name', lambda: a('volume', 'transfer', 'request', 'create', '--name', 'compat osc', env('EVS_VOLUME_NAME'), '-f', 'json'))
    second = step('create_by_id', lambda: a('volume', 'transfer', 'request', 'create', env('EVS_VOLUME_ID_2'), '-f', 'json'))
    if created is not None:
        tid = created['id']
        step('show', lambda: a('volume', 'transfer', 'request', 'show', tid, '-f', 'json'))
        step('list', lambda: a('volume', 'transfer', 'request', 'list', '-f', 'json'))
        step('accept', lambda: b('volume', 'transfer', 'request', 'accept', '--auth-key', created['auth_key'], tid, '-f', 'json'))
    step('volume_list_a', lambda: a('volume', 'list', '-f', 'json'))
    step('volume_list_b', lambda: b('volume', 'list', '-f', 'json'))
    if second is not None:
        step('delete', lambda: a('volume', 'transfer', 'request', 'delete', second['id']))
    step('list_at_end', lambda: a('volume', 'transfer', 'request', 'list', '-f', 'json'))
    step('create_ambiguous_name', lambda: a('volume', 'transfer', 'request', 'create', env('EVS_TWIN_NAME'), '-f', 'json'))
    procedure.report()


def one(argv):
    """Runs one `openstack` command line; prints its exit code, output and requests as JSON."""
    procedure = Procedure({})
    original_send = requests.Session.send

    def recording_send(self, request, **kwargs):
        response = original_send(self, request, **kwargs)
        procedure.recorder.record(response)
        return response

    # Every session OSC and openstacksdk build is a requests.Session: record them all.
    requests.Session.send = recording_send
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = osc_shell.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    json.dump({'code': code, 'stdout': out.getvalue(), 'stderr': err.getvalue(), 'requests': procedure.recorder.requests}, sys.stdout)


if __name__ == '__main__':
    if sys.argv[1:2] == ['--one']:
        one(sys.argv[2:])
    else:
        main()
