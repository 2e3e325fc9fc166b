"""The seed procedure through the official Huawei Cloud Python SDK
(huaweicloudsdkevs.v2.EvsClient), unchanged, as a user of it would write it:
BasicCredentials(ak, sk, project_id) and the gateway as the endpoint. Every
call is signed with AK/SK (SDK-HMAC-SHA256); no token is involved.

  A: create a transfer, show it, list it
  B: accepts with a wrong key (refused), then with the right one
  A: no longer sees it; creates a second transfer and deletes it

The SDK has no call for the list with details (os-volume-transfer/detail).
Run by test/compat/huawei-sdk.test.ts; see compat_common.py for inputs and
the report. The requests are observed through the SDK's own HttpHandler.
"""
import time
from importlib.metadata import version as installed

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exceptions
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkevs.v2 import (
    CinderAcceptVolumeTransferOption,
    CinderAcceptVolumeTransferRequest,
    CinderAcceptVolumeTransferRequestBody,
    CinderCreateVolumeTransferRequest,
    CinderCreateVolumeTransferRequestBody,
    CinderDeleteVolumeTransferRequest,
    CinderListVolumeTransfersRequest,
    CinderShowVolumeTransferRequest,
    CreateVolumeTransferOption,
    EvsClient,
)

from compat_common import Procedure, env, wrong_key


def describe_error(exc):
    if isinstance(exc, sdk_exceptions.ServiceResponseException):
        return {
            'type': type(exc).__name__,
            'module': type(exc).__module__,
            'code': exc.status_code,
            'error_code': exc.error_code,
            'message': exc.error_msg,
            'request_id': exc.request_id,
            'text': str(exc),
        }
    return {'type': type(exc).__name__, 'module': type(exc).__module__, 'text': str(exc)}


def main():
    gateway = env('EVS_GATEWAY_URL').rstrip('/')
    procedure = Procedure({
        'name': 'huaweicloudsdkevs',
        'version': installed('huaweicloudsdkevs'),
        'core': installed('huaweicloudsdkcore'),
    })
    handler = HttpHandler().add_response_handler(lambda **kwargs: procedure.recorder.record(kwargs['response']))

    def client(project, ak, sk):
        return EvsClient.new_builder() \
            .with_credentials(BasicCredentials(ak, sk, project)) \
            .with_endpoints([gateway]) \
            .with_http_handler(handler) \
            .build()

    a = client(env('EVS_PROJECT_A'), env('EVS_AK_A'), env('EVS_SK_A'))
    b = client(env('EVS_PROJECT_B'), env('EVS_AK_B'), env('EVS_SK_B'))
    step = lambda name, fn: procedure.step(name, fn, describe_error)  # noqa: E731

    def create(volume_id, name=None):
        option = CreateVolumeTransferOption(volume_id=volume_id, name=name)
        request = CinderCreateVolumeTransferRequest(body=CinderCreateVolumeTransferRequestBody(transfer=option))
        return a.cinder_create_volume_transfer(request).transfer.to_dict()

    def accept(tid, auth_key):
        body = CinderAcceptVolumeTransferRequestBody(accept=CinderAcceptVolumeTransferOption(auth_key=auth_key))
        return b.cinder_accept_volume_transfer(CinderAcceptVolumeTransferRequest(transfer_id=tid, body=body)).transfer.to_dict()

    def show(tid):
        return a.cinder_show_volume_transfer(CinderShowVolumeTransferRequest(transfer_id=tid)).transfer.to_dict()

    def list_transfers(**paging):
        response = a.cinder_list_volume_transfers(CinderListVolumeTransfersRequest(**paging))
        return [t.to_dict() for t in response.transfers]

    created = step('create', lambda: create(env('EVS_VOLUME_ID'), 'compat huawei sdk'))
    if created is not None:
        tid = created['id']
        step('show', lambda: show(tid))
        step('list', list_transfers)
        step('list_paged', lambda: list_transfers(limit=10, offset=0))
        step('accept_wrong_key', lambda: accept(tid, wrong_key(created['auth_key'])))
        step('accept', lambda: accept(tid, created['auth_key']))
        step('show_after_accept', lambda: show(tid))

    second = step('create_second', lambda: create(env('EVS_VOLUME_ID_2')))
    if second is not None:
        def delete():
            response = a.cinder_delete_volume_transfer(CinderDeleteVolumeTransferRequest(transfer_id=second['id']))
            return response.status_code

        step('delete', delete)
        # The SDK dates a signature to the second, and the gateway takes a signed change once:
        # the same DELETE again within that second would be refused as a replay (401), so a
        # deliberate repeat is signed in the next second.
        time.sleep(1.1)
        step('delete_again', delete)
    step('list_at_end', list_transfers)
    procedure.report()


if __name__ == '__main__':
    main()
