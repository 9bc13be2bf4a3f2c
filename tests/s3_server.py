"""A real S3-compatible server (moto's standalone server) in a child process on 127.0.0.1, for tests and benchmarks.

`with S3Server() as s3:` starts `python -m moto.server` on a port the system picks (port 0), reads the port from
its start-up line, creates a bucket and stops the process on exit. `s3.storages()` is the STORAGES setting that
points the default storage at that bucket, built by the same `config.object_storage.s3_backend` as production.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import boto3

from config import object_storage

STARTED = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
REGION = "ap-southeast-1"
# moto accepts any key; these only make boto3 sign its requests as a real client would.
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


class S3Server:
    """Run moto's S3 server in a child process; create `bucket` in it."""

    def __init__(self, bucket: str = "congvan-test", start_timeout: float = 30.0) -> None:
        self.bucket = bucket
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> S3Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.port = self.read_port()
        self.client().create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        return self

    def read_port(self) -> int:
        """Return the port from the server's start-up line; fail if it does not come in time."""
        found: list[int] = []

        def read() -> None:
            assert self.process is not None and self.process.stderr is not None
            for line in self.process.stderr:
                if match := STARTED.search(line):
                    found.append(int(match.group(1)))
                    break

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        if not found:
            self.__exit__()
            raise RuntimeError("moto's S3 server did not start")
        threading.Thread(target=self.drain, daemon=True).start()  # keep its log from filling the pipe
        return found[0]

    def drain(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            for _line in self.process.stderr:
                pass

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self):
        """Return a boto3 S3 client signed with the test keys."""
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)  # fmt: skip

    def storage_backend(self) -> dict:
        """Return the STORAGES["default"] entry for this server's bucket."""
        return object_storage.s3_backend(self.bucket, endpoint_url=self.endpoint_url, region=REGION,
                                         access_key=ACCESS_KEY, secret_key=SECRET_KEY)  # fmt: skip

    def environment(self) -> dict[str, str]:
        """Return the environment variables that point a child process (a worker, gunicorn) at this bucket."""
        return {"AWS_STORAGE_BUCKET_NAME": self.bucket, "AWS_S3_ENDPOINT_URL": self.endpoint_url,
                "AWS_S3_REGION_NAME": REGION, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY}  # fmt: skip

    def keys(self) -> list[str]:
        """Return every object key in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
