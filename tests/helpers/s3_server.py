"""An S3-compatible server for the tests that need one: moto's server mode on a loopback port.

One server runs per test session, started only when a test asks for it; every test gets
a bucket of its own. Clients are given the endpoint and credentials explicitly, so no
AWS environment variable is set (or leaks into other tests).
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from tests.helpers.live_server import free_port
from wheelyard.storage.s3 import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

STARTUP_TIMEOUT = 30.0
# moto accepts any credentials; these only have to be present.
TEST_ACCESS_KEY_ID = "wheelyard-test"
TEST_SECRET_ACCESS_KEY = "wheelyard-test-secret"
TEST_REGION = "us-east-1"


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = MotoServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: MotoServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"moto server exited early:\n{server.log()}")
        try:
            # Listing buckets is the cheapest request that proves S3 is being served.
            with urllib.request.urlopen(server.endpoint_url + "/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not start in {STARTUP_TIMEOUT}s:\n{server.log()}")


def make_s3_client(moto_server: MotoServer) -> S3Client:
    """A client of the moto server, configured as the backend configures its own."""
    session = boto3.session.Session(
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        region_name=TEST_REGION,
    )
    return s3_client(session, endpoint_url=moto_server.endpoint_url)


@pytest.fixture(scope="session")
def s3(moto_server: MotoServer) -> S3Client:
    return make_s3_client(moto_server)


@pytest.fixture
def s3_bucket(s3: S3Client) -> Iterator[str]:
    """A fresh, empty bucket, emptied and removed after the test."""
    name = f"wheelyard-test-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    yield name
    # moto keeps objects in memory: drop the test's (some are many megabytes).
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for entry in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=entry["Key"])
    s3.delete_bucket(Bucket=name)
