"""The S3-compatible storage every machine shares: private objects, never overwritten, never a public URL.

With `AWS_STORAGE_BUCKET_NAME` set, dispatch PDFs, copies, appendices, merge data and pending imports live in the
bucket (django-storages' S3 backend over boto3); without it, on the local disk under `MEDIA_ROOT`. Files reach
people only through the permission-checked views in `notices/views/files.py`: objects are private, and a URL of
one (`FieldFile.url`) is always a signed, short-lived one, so an address that leaks opens nothing for long.
"""

from __future__ import annotations

SIGNED_URL_SECONDS = 300  # the life of a signed URL, should anything ask for one


def s3_backend(bucket: str, endpoint_url: str | None = None, region: str | None = None,
               access_key: str | None = None, secret_key: str | None = None) -> dict:  # fmt: skip
    """Return the STORAGES entry of a private bucket: objects private, names never reused, URLs always signed."""
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS,
        "signature_version": "s3v4",
        "file_overwrite": False,  # a second file of the same name gets a new name, never replaces the first
        "custom_domain": None,  # a custom domain would mean unsigned URLs
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
