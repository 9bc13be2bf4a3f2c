"""The storage the settings choose (config/object_storage.py): the local disk, or a private S3 bucket."""

from __future__ import annotations

import json

from tests.processes import run_python

SHOW = (
    "import django, json; django.setup(); from django.core.files.storage import default_storage as s; s._setup(); "
    "w = s._wrapped; print(json.dumps({'class': type(w).__name__, **{k: getattr(w, k, None) for k in "
    "('bucket_name', 'endpoint_url', 'region_name', 'access_key', 'default_acl', 'querystring_auth', "
    "'querystring_expire', 'file_overwrite', 'custom_domain')}}))"
)


def storage_in_child(**env: str) -> dict:
    result = run_python("-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_bucket_files_stay_on_the_local_disk():
    assert storage_in_child(AWS_STORAGE_BUCKET_NAME="")["class"] == "FileSystemStorage"


def test_a_bucket_in_the_environment_makes_every_file_a_private_object_with_only_signed_urls():
    storage = storage_in_child(
        AWS_STORAGE_BUCKET_NAME="congvan", AWS_S3_ENDPOINT_URL="https://s3.internal:9000",
        AWS_S3_REGION_NAME="ap-southeast-1", AWS_ACCESS_KEY_ID="key-id", AWS_SECRET_ACCESS_KEY="secret",
    )  # fmt: skip
    assert storage == {
        "class": "S3Storage", "bucket_name": "congvan", "endpoint_url": "https://s3.internal:9000",
        "region_name": "ap-southeast-1", "access_key": "key-id", "default_acl": "private",
        "querystring_auth": True, "querystring_expire": 300, "file_overwrite": False, "custom_domain": None,
    }  # fmt: skip
