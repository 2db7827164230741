"""``perimeter scan s3://bucket/prefix``: Config's delivered objects read from S3 as streams, never to disk.

Calls: ``s3:ListBucket`` (ListObjectsV2, paginated) under the prefix, then ``s3:GetObject`` per object chosen
(perimeter.inputs.locations.Selection: the newest snapshot per account and region, and any other JSON object).
Each object's body is decoded as it arrives (gzip by its magic bytes), one item at a time.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import boto3
import botocore.exceptions

from perimeter.inputs.locations import S3_SCHEME, Filters, Selection, read_stream
from perimeter.live import CLIENT_CONFIG, LiveScanError, explain

ACTIONS = {"ListObjectsV2": "s3:ListBucket", "GetObject": "s3:GetObject"}
NEEDS = "reading a bucket needs s3:ListBucket on it and s3:GetObject on its objects (README 'Scanning an organization')"


def split_url(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
    if not bucket:
        raise LiveScanError(f"{url}: no bucket name; write s3://bucket/prefix")
    return bucket, prefix


def s3_items(url: str, filters: Filters, warn: Callable[[str], None], profile: str | None = None) -> Iterator[Any]:
    bucket, prefix = split_url(url)
    try:
        client = boto3.Session(profile_name=profile).client("s3", config=CLIENT_CONFIG)
        selection = Selection(filters)
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                selection.offer(entry["Key"])
        keys = selection.keys()
        if not keys:
            raise LiveScanError(f"{url}: no .json or .json.gz object under this prefix")
        note = selection.note(url)
        if note:
            warn(note)
        for key in keys:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                yield from read_stream(body, f"s3://{bucket}/{key}", warn)
            finally:
                body.close()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise LiveScanError(" ".join(explain(error, None, profile, NEEDS, ACTIONS).split())) from error
