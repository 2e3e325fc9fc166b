"""The seed procedure through openstacksdk's block-storage proxy, unchanged,
configured as a clouds.yaml without Keystone would be: the admin_token auth
plugin (a static token and endpoint) and a block_storage endpoint override.
openstacksdk reads the version discovery document (GET /v3, without a
token) before its first call, and negotiates the microversion from it: its
transfers go to /volume-transfers at 3.55 (its highest for transfers).

  A: create a transfer, show it, list it (detail and summary)
  B: accepts with a wrong key (refused), then with the right one
  A: no longer sees it; creates a second transfer and deletes it

Run by test/compat/openstacksdk.test.ts; see compat_common.py for inputs and
the report. EVS_API_VERSION is block_storage_api_version (default '3').
"""
from importlib.metadata import version as installed

import openstack
from openstack import exceptions as sdk_exceptions

from compat_common import Procedure, env, wrong_key


def describe_error(exc):
    if isinstance(exc, sdk_exceptions.HttpException):
        return {
            'type': type(exc).__name__,
            'module': type(exc).__module__,
            'code': exc.status_code,
            'message': exc.details,
            'request_id': exc.request_id,
            'text': str(exc),
        }
    return {'type': type(exc).__name__, 'module': type(exc).__module__, 'text': str(exc)}


def transfer(resource):
    """The fields the server sent (the SDK's resource adds its own, e.g. location)."""
    fields = ('id', 'name', 'volume_id', 'auth_key', 'created_at', 'links', 'no_snapshots')
    return {k: getattr(resource, k, None) for k in fields if getattr(resource, k, None) is not None}


def main():
    gateway = env('EVS_GATEWAY_URL').rstrip('/')
    api_version = env('EVS_API_VERSION', '3')
    procedure = Procedure({
        'name': 'openstacksdk',
        'version': installed('openstacksdk'),
        'keystoneauth1': installed('keystoneauth1'),
        'api_version': api_version,
    })

    def connect(project, token):
        endpoint = f'{gateway}/v{api_version}/{project}'
        conn = openstack.connect(
            auth_type='admin_token',
            auth={'endpoint': endpoint, 'token': token},
            block_storage_endpoint_override=endpoint,
            block_storage_api_version=api_version,
            load_yaml_config=False,
            load_envvars=False,
        )
        # Record every request, version discovery included (the proxy is built lazily).
        procedure.recorder.attach(conn.session.session)
        return conn.block_storage

    step = lambda name, fn: procedure.step(name, fn, describe_error)  # noqa: E731
    a = step('connect_a', lambda: connect(env('EVS_PROJECT_A'), env('EVS_TOKEN_A')))
    b = step('connect_b', lambda: connect(env('EVS_PROJECT_B'), env('EVS_TOKEN_B')))
    if a is None or b is None:
        procedure.report()
        return

    created = step('create', lambda: transfer(a.create_transfer(volume_id=env('EVS_VOLUME_ID'), name='compat openstacksdk')))
    if created is not None:
        tid = created['id']
        step('get', lambda: transfer(a.get_transfer(tid)))
        step('list_detailed', lambda: [transfer(t) for t in a.transfers()])
        step('list_summary', lambda: [transfer(t) for t in a.transfers(details=False)])
        step('accept_wrong_key', lambda: transfer(b.accept_transfer(tid, wrong_key(created['auth_key']))))
        step('accept', lambda: transfer(b.accept_transfer(tid, created['auth_key'])))
        step('get_after_accept', lambda: transfer(a.get_transfer(tid)))

    second = step('create_second', lambda: transfer(a.create_transfer(volume_id=env('EVS_VOLUME_ID_2'))))
    if second is not None:
        step('delete', lambda: a.delete_transfer(second['id'], ignore_missing=False))
        step('delete_again', lambda: a.delete_transfer(second['id'], ignore_missing=False))
    step('list_at_end', lambda: [transfer(t) for t in a.transfers()])
    procedure.report()


if __name__ == '__main__':
    main()
