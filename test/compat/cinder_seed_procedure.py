"""The seed procedure through python-cinderclient, unchanged, as a user of it
would write it: a keystoneauth session with a static token (the admin_token
plugin) instead of Keystone, and the gateway as the endpoint.

  A: create a transfer, show it, list it (summary and detail)
  B: cannot see it; accepts with a wrong key (refused), then with the right one
  A: no longer sees it; creates a second transfer and deletes it

Run by test/compat/cinderclient.test.ts; see compat_common.py for inputs and
the report. EVS_API_VERSION is cinderclient's version string (default '3',
i.e. 3.0: no OpenStack-API-Version header).
"""
from importlib.metadata import version as installed

from cinderclient import client as cinder_client
from cinderclient import exceptions as cinder_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from compat_common import Procedure, env, wrong_key


def describe_error(exc):
    if isinstance(exc, cinder_exceptions.ClientException):
        return {
            'type': type(exc).__name__,
            'module': type(exc).__module__,
            'code': exc.code,
            'message': exc.message,
            'request_id': exc.request_id,
            'text': str(exc),
        }
    return {'type': type(exc).__name__, 'module': type(exc).__module__, 'text': str(exc)}


def main():
    gateway = env('EVS_GATEWAY_URL').rstrip('/')
    version = env('EVS_API_VERSION', '3')
    major = version.split('.')[0]
    procedure = Procedure({
        'name': 'python-cinderclient',
        'version': installed('python-cinderclient'),
        'keystoneauth1': installed('keystoneauth1'),
        'api_version': version,
    })

    def client(project, token):
        endpoint = f'{gateway}/v{major}/{project}'
        session = ks_session.Session(auth=token_endpoint.Token(endpoint, token), session=procedure.recorder.session())
        return cinder_client.Client(version, session=session, endpoint_override=endpoint)

    a = client(env('EVS_PROJECT_A'), env('EVS_TOKEN_A'))
    b = client(env('EVS_PROJECT_B'), env('EVS_TOKEN_B'))
    step = lambda name, fn: procedure.step(name, fn, describe_error)  # noqa: E731

    created = step('create', lambda: a.transfers.create(env('EVS_VOLUME_ID'), 'compat cinderclient')._info)
    if created is not None:
        tid = created['id']
        step('get', lambda: a.transfers.get(tid)._info)
        step('list_detailed', lambda: [t._info for t in a.transfers.list()])
        step('list_summary', lambda: [t._info for t in a.transfers.list(detailed=False)])
        step('find_by_name', lambda: a.transfers.find(name='compat cinderclient')._info)
        step('get_as_recipient', lambda: b.transfers.get(tid)._info)
        step('accept_wrong_key', lambda: b.transfers.accept(tid, wrong_key(created['auth_key']))._info)
        step('accept', lambda: b.transfers.accept(tid, created['auth_key'])._info)
        step('get_after_accept', lambda: a.transfers.get(tid)._info)

    second = step('create_second', lambda: a.transfers.create(env('EVS_VOLUME_ID_2'))._info)
    if second is not None:
        def delete():
            a.transfers.delete(second['id'])  # returns (response, body); the body is empty

        step('delete', delete)
        step('delete_again', delete)
    step('list_at_end', lambda: [t._info for t in a.transfers.list()])
    procedure.report()


if __name__ == '__main__':
    main()
