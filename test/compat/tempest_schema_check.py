"""Holds the gateway's responses to tempest's published response schemas
(tempest.lib.api_schema.response.volume: transfers, v3_55, v3_57, volumes),
validated the way tempest's own REST client does (its validate_response,
its JSON schema validator and format checker), at each version a client may
choose:

  3.0  os-volume-transfer  tempest's base transfer schemas
  3.55 volume-transfers    v3_55 (no_snapshots)
  3.57 volume-transfers    v3_57 (no_snapshots and the history fields)
  3.59 volume-transfers    v3_57 (3.59 adds paging, no fields)

At each: A creates a transfer, shows it, lists it (summary and detail), B
accepts it; A creates another and deletes it; B shows and lists its volumes
(tempest's volume schemas). Two disks of A's per version come in
EVS_VOLUME_IDS (comma-separated, in version order). The report has one step
per response, ok when it fits its schema.
"""
from importlib.metadata import version as installed

import requests
from tempest.lib.api_schema.response.volume import transfers as base
from tempest.lib.api_schema.response.volume import volumes as volume_schemas
from tempest.lib.api_schema.response.volume.v3_55 import transfers as v3_55
from tempest.lib.api_schema.response.volume.v3_57 import transfers as v3_57
from tempest.lib.common import rest_client

from compat_common import Procedure, env

VERSIONS = [('3.0', 'os-volume-transfer', base), ('3.55', 'volume-transfers', v3_55), ('3.57', 'volume-transfers', v3_57), ('3.59', 'volume-transfers', v3_57)]


class Status:
    """What validate_response reads of an answer: its status."""

    def __init__(self, status):
        self.status = status


def main():
    gateway = env('EVS_GATEWAY_URL').rstrip('/')
    project_a, project_b = env('EVS_PROJECT_A'), env('EVS_PROJECT_B')
    volume_ids = env('EVS_VOLUME_IDS').split(',')
    procedure = Procedure({'name': 'tempest', 'version': installed('tempest'), 'jsonschema': installed('jsonschema')})
    session = procedure.recorder.session()

    def call(method, project, token, version, path, body=None):
        headers = {'X-Auth-Token': token, 'OpenStack-API-Version': f'volume {version}'}
        response = session.request(method, f'{gateway}/v3/{project}/{path}', json=body, headers=headers, timeout=30)
        return response, (response.json() if response.text else None)

    def check(name, schema, response, body):
        def validate():
            if response.status_code >= 300:
                raise AssertionError(f'HTTP {response.status_code}: {response.text[:300]}')
            rest_client.RestClient.validate_response(schema, Status(response.status_code), body)
            return body
        return procedure.step(name, validate, lambda exc: {'type': type(exc).__name__, 'module': type(exc).__module__, 'text': str(exc)})

    token_a, token_b = env('EVS_TOKEN_A'), env('EVS_TOKEN_B')
    for index, (version, route, schemas) in enumerate(VERSIONS):
        a = lambda method, path, body=None: call(method, project_a, token_a, version, path, body)  # noqa: E731
        b = lambda method, path, body=None: call(method, project_b, token_b, version, path, body)  # noqa: E731
        first, second = volume_ids[2 * index], volume_ids[2 * index + 1]
        created = check(f'{version} create', schemas.create_volume_transfer, *a('POST', route, {'transfer': {'volume_id': first, 'name': f'tempest {version}'}}))
        if created is None:
            continue
        tid = created['transfer']['id']
        check(f'{version} show', schemas.show_volume_transfer, *a('GET', f'{route}/{tid}'))
        check(f'{version} list', schemas.list_volume_transfers_no_detail, *a('GET', route))
        check(f'{version} list detail', schemas.list_volume_transfers_with_detail, *a('GET', f'{route}/detail'))
        check(f'{version} accept', schemas.accept_volume_transfer, *b('POST', f'{route}/{tid}/accept', {'accept': {'auth_key': created['transfer']['auth_key']}}))
        other = check(f'{version} create second', schemas.create_volume_transfer, *a('POST', route, {'transfer': {'volume_id': second}}))
        if other is not None:
            check(f'{version} delete', schemas.delete_volume_transfer, *a('DELETE', f'{route}/{other["transfer"]["id"]}'))
        check(f'{version} volume show', volume_schemas.show_volume, *b('GET', f'volumes/{first}'))
        check(f'{version} volume list', volume_schemas.list_volumes_no_detail, *b('GET', 'volumes'))
        check(f'{version} volume list detail', volume_schemas.list_volumes_with_detail, *b('GET', 'volumes/detail'))
    procedure.report()


if __name__ == '__main__':
    main()
