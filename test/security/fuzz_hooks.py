"""Hooks for the API fuzz run (test/security/api-fuzz.test.ts).

A random volume_id names no disk, so every generated create would stop at
404 and nothing behind it (locking the disk, show, delete, the stateful
sequences that follow create's links) would be exercised. The test creates
real disks for the fuzzing project and passes their ids in EVS_FUZZ_VOLUME_IDS;
a generated volume_id that is a well-formed UUID is swapped for one of them,
chosen by its own value, so the swap is deterministic under a seed. Anything
that is not a UUID is left alone: negative cases stay negative, positive stay
positive.
"""

import os
import re

import schemathesis

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DISKS = [d for d in os.environ.get("EVS_FUZZ_VOLUME_IDS", "").split(",") if d]


@schemathesis.hook.apply_to(operation_id="createTransfer")
def map_body(context, body):
    transfer = body.get("transfer") if isinstance(body, dict) else None
    volume_id = transfer.get("volume_id") if isinstance(transfer, dict) else None
    if DISKS and isinstance(volume_id, str) and UUID.match(volume_id):
        transfer["volume_id"] = DISKS[int(volume_id.replace("-", ""), 16) % len(DISKS)]
    return body
