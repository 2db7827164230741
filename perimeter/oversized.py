"""The configuration item an oversized change notification stands for, read from Config's history.

An ``OversizedConfigurationItemChangeNotification`` carries only a summary of the item; the item itself
comes from GetResourceConfigHistory
(https://docs.aws.amazon.com/config/latest/APIReference/API_GetResourceConfigHistory.html), which lists a
resource's items captured up to ``laterTime``, newest first by default, in pages of ``limit``.

``laterTime`` is a timestamp, and botocore releases older than the Lambda runtime's may send it truncated
to whole seconds (botocore's ``timestamp_precision='legacy'``): ``laterTime=<capture time>, limit=1``
then names a moment *before* the change and returns the previous item, judging a configuration that no
longer exists. So the request never depends on sub-second precision: it asks for the items up to the
next whole second after the capture time, a few per page, and the item is picked by the summary's
``configurationStateId`` (or, without one, its exact capture time), for the same resource type and id.
An item that should be evaluated but cannot be found is an error (HistoryMismatchError), never a
NOT_APPLICABLE that would overwrite the resource's last verdict.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.exceptions

from perimeter.items import GONE_STATUSES, describe, normalise_item

PAGE_LIMIT = 5  # items per page: the wanted one and the few captured in the same second after it
MAX_PAGES = 4  # a call spans at most seven days, so a page may come back short; stop well before a runaway
NOT_DISCOVERED = "ResourceNotDiscoveredException"


class HistoryMismatchError(LookupError):
    """Config's history does not hold the item the notification announced; the message says what was asked."""


def capture_moment(value: Any) -> datetime | None:
    """A capture time (ISO 8601 text from an event, a datetime from botocore) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _milliseconds(moment: datetime) -> int:
    """Config keeps capture times to the millisecond; botocore's float parsing may be a microsecond off."""
    return round(moment.timestamp() * 1000)


def history_request(summary: dict) -> dict:
    """GetResourceConfigHistory's parameters for the window holding the summary's item (no nextToken)."""
    request = {"resourceType": summary["resourceType"], "resourceId": summary["resourceId"], "limit": PAGE_LIMIT}
    captured = capture_moment(summary.get("configurationItemCaptureTime"))
    if captured is not None:  # a whole second, strictly after the capture: the same at any timestamp precision
        request["laterTime"] = captured.replace(microsecond=0) + timedelta(seconds=1)
    return request


def _matches(raw: dict, state_id: Any, captured: datetime | None) -> bool:
    if state_id is not None and raw.get("configurationStateId") is not None:
        return str(raw["configurationStateId"]) == str(state_id)
    moment = capture_moment(raw.get("configurationItemCaptureTime"))
    return captured is not None and moment is not None and _milliseconds(moment) == _milliseconds(captured)


def _wanted(summary: dict) -> str:
    parts = []
    if summary.get("configurationStateId") is not None:
        parts.append(f"configurationStateId {summary['configurationStateId']}")
    if summary.get("configurationItemCaptureTime"):
        parts.append(f"captured at {summary['configurationItemCaptureTime']}")
    return " ".join(parts)


def fetch_item(config_client, summary: dict) -> dict:
    """The notification-shaped item the summary announces.

    A summary of a deleted or not-recorded resource is itself the item (no configuration to fetch): its
    verdict is NOT_APPLICABLE whatever the history holds. Otherwise the item must be found:
    HistoryMismatchError when it is not, or when Config answers with another resource.
    """
    if summary.get("configurationItemStatus") in GONE_STATUSES:
        return {**summary, "configuration": None}
    state_id = summary.get("configurationStateId")
    captured = capture_moment(summary.get("configurationItemCaptureTime"))
    if state_id is None and captured is None:
        raise HistoryMismatchError(
            f"{describe(summary)}: the oversized notification carries neither configurationStateId nor "
            "configurationItemCaptureTime, so the item it announces cannot be told from others"
        )
    request = history_request(summary)
    seen = 0
    for _ in range(MAX_PAGES):
        try:
            response = config_client.get_resource_config_history(**request)
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != NOT_DISCOVERED:
                raise
            break
        for raw in response.get("configurationItems") or []:
            seen += 1
            if (raw.get("resourceType"), raw.get("resourceId")) != (summary["resourceType"], summary["resourceId"]):
                raise HistoryMismatchError(
                    f"{describe(summary)}: GetResourceConfigHistory answered with an item of {describe(raw)}"
                )
            if _matches(raw, state_id, captured):
                return normalise_item(raw)
        if not response.get("nextToken"):
            break
        request["nextToken"] = response["nextToken"]
    status = summary.get("configurationItemStatus", "OK")
    raise HistoryMismatchError(
        f"{describe(summary)}: Config's history holds no item with {_wanted(summary)} (status {status}) among the "
        f"{seen} item(s) captured up to {_shown(request.get('laterTime'))}; not judging another configuration"
    )


def _shown(later_time: datetime | None) -> str:
    return "now" if later_time is None else later_time.isoformat().replace("+00:00", "Z")
