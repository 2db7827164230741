"""Builders for configuration items in the shapes AWS produces, shared by the rule tests."""
from __future__ import annotations

import copy
import json

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def pascalise(value):
    """The PascalCase twin of a camelCase structure (keys only): the API / CloudFormation spelling."""
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascalise(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [pascalise(inner) for inner in value]
    return value


def recorded_item(resource_type: str, resource_id: str, configuration, *, status: str = "OK",
                  name: str = "test-resource", pascal: bool = False) -> dict:
    """A configuration item in the notification shape, as a change event carries it."""
    return {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-20T11:02:17.456Z",
        "configurationStateId": 1763636537456,
        "awsAccountId": ACCOUNT_ID,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name,
        "ARN": resource_id,
        "awsRegion": REGION,
        "availabilityZone": "Regional",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": "2026-03-02T09:00:00.000Z",
        "tags": {},
        "relatedEvents": [],
        "relationships": [],
        "configuration": pascalise(configuration) if pascal else configuration,
        "supplementaryConfiguration": {},
    }


def api_shape(item: dict) -> dict:
    """The same item as GetResourceConfigHistory / BatchGetResourceConfig return it."""
    renamed = {"awsAccountId": "accountId", "ARN": "arn", "configurationStateMd5Hash": "configurationItemMD5Hash",
               "configurationItemVersion": "version"}
    api = {renamed.get(key, key): value for key, value in copy.deepcopy(item).items()}
    api["configuration"] = json.dumps(api["configuration"])
    api["supplementaryConfiguration"] = {k: json.dumps(v) for k, v in api.get("supplementaryConfiguration", {}).items()}
    api["configurationStateId"] = str(api["configurationStateId"])
    return api
