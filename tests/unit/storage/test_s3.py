"""What the S3 backend does beyond the shared contract (test_contract.py), on moto's server."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers.live_server import free_port
from tests.helpers.s3_server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    MotoServer,
    make_s3_client,
)
from wheelyard.config import Settings
from wheelyard.storage.base import StorageError, content_path, presigned_url
from wheelyard.storage.factory import create_storage
from wheelyard.storage.local import LocalStorage
from wheelyard.storage.s3 import MAX_PRESIGN_SECONDS, MIN_PART_SIZE, S3Location, S3Storage

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def blob_path(content: bytes, filename: str = "demo-1.0-py3-none-any.whl") -> str:
    return content_path(hashlib.blake2b(content, digest_size=32).hexdigest(), filename)


@pytest.fixture
def storage(s3: S3Client, s3_bucket: str) -> S3Storage:
    return S3Storage(s3, S3Location(s3_bucket, "pre/fix/"), part_size=MIN_PART_SIZE)


def stored_object(s3: S3Client, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


# --- where the blobs go -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://wheels", "wheels", ""),
        ("s3://wheels/", "wheels", ""),
        ("s3://wheels/team/index", "wheels", "team/index/"),
        ("s3://wheels//team//index/", "wheels", "team/index/"),
        ("s3://my.wheels-2/files", "my.wheels-2", "files/"),
    ],
)
def test_storage_urls_name_a_bucket_and_a_prefix(url: str, bucket: str, prefix: str) -> None:
    assert S3Location.parse(url) == S3Location(bucket, prefix)


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3:///files",
        "https://wheels.s3.amazonaws.com/files",
        "wheels/files",
        "s3://key:secret@wheels/files",
        "s3://wheels:9000/files",
        "s3://wheels/files?region=eu-west-1",
        "s3://wheels/files#x",
        "s3://wheels/../files",
        "s3://wheels/a/./b",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="s3://"):
        S3Location.parse(url)


def test_blobs_are_stored_under_the_prefix(
    storage: S3Storage, s3: S3Client, s3_bucket: str
) -> None:
    path = blob_path(b"wheel bytes")
    storage.put(path, io.BytesIO(b"wheel bytes"))
    assert stored_object(s3, s3_bucket, f"pre/fix/{path}") == b"wheel bytes"


def test_folder_markers_are_not_blobs(storage: S3Storage, s3: S3Client, s3_bucket: str) -> None:
    # What an S3 console leaves behind when someone "creates a folder" in the bucket.
    s3.put_object(Bucket=s3_bucket, Key="pre/fix/ab/", Body=b"")
    path = blob_path(b"real")
    storage.put(path, io.BytesIO(b"real"))
    assert list(storage.iter_paths()) == [path]


def test_parts_smaller_than_s3_allows_are_refused(s3: S3Client) -> None:
    with pytest.raises(ValueError, match="at least"):
        S3Storage(s3, S3Location("wheels"), part_size=MIN_PART_SIZE - 1)


# --- never overwritten, even by a writer that gets in between -----------------------


@pytest.fixture
def own_client(moto_server: MotoServer) -> S3Client:
    # A client of its own: the event hooks a test registers on it reach no other test.
    return make_s3_client(moto_server)


def just_before(client: S3Client, operation: str, action: Callable[[], object]) -> None:
    """Run ``action`` once, right before ``client`` sends its next ``operation`` request."""
    pending = [action]

    def hook(**_: Any) -> None:
        if pending:
            pending.pop()()

    client.meta.events.register(f"before-send.s3.{operation}", hook)


def test_a_writer_that_got_in_first_keeps_its_blob(
    own_client: S3Client, s3: S3Client, s3_bucket: str
) -> None:
    storage = S3Storage(own_client, S3Location(s3_bucket))
    path = blob_path(b"ours")
    # Another worker stores the path after our existence check, before our write.
    just_before(
        own_client, "PutObject", lambda: s3.put_object(Bucket=s3_bucket, Key=path, Body=b"theirs")
    )
    storage.put(path, io.BytesIO(b"ours"))
    assert stored_object(s3, s3_bucket, path) == b"theirs"


def test_a_writer_that_got_in_first_keeps_its_blob_against_a_multipart_upload(
    own_client: S3Client, s3: S3Client, s3_bucket: str
) -> None:
    storage = S3Storage(own_client, S3Location(s3_bucket), part_size=MIN_PART_SIZE)
    path = blob_path(b"large ours")
    just_before(
        own_client,
        "CompleteMultipartUpload",
        lambda: s3.put_object(Bucket=s3_bucket, Key=path, Body=b"theirs"),
    )
    storage.put(path, io.BytesIO(b"o" * (MIN_PART_SIZE + 10)))
    assert stored_object(s3, s3_bucket, path) == b"theirs"
    # The parts we sent are not left behind, unfinished and billed.
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


class FailsAfter(io.RawIOBase):
    """Gives ``size`` bytes, then fails as a dropped client connection would."""

    def __init__(self, size: int) -> None:
        self.remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self.remaining:
            raise OSError("connection reset by peer")
        count = min(len(buffer), self.remaining)
        buffer[:count] = b"x" * count
        self.remaining -= count
        return count


def test_a_failed_multipart_upload_leaves_nothing(
    storage: S3Storage, s3: S3Client, s3_bucket: str
) -> None:
    path = blob_path(b"cut short")
    with pytest.raises(OSError, match="connection reset"):
        storage.put(path, io.BufferedReader(FailsAfter(MIN_PART_SIZE + 1000)))
    assert not storage.exists(path)
    assert s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


# --- reading ------------------------------------------------------------------------


def count_requests(client: S3Client, operation: str) -> list[object]:
    sent: list[object] = []
    client.meta.events.register(f"before-send.s3.{operation}", lambda **_: sent.append(1))
    return sent


def test_reading_straight_through_is_one_request(own_client: S3Client, s3_bucket: str) -> None:
    storage = S3Storage(own_client, S3Location(s3_bucket))
    content = bytes(range(256)) * 4096  # 1 MiB
    path = blob_path(content)
    storage.put(path, io.BytesIO(content))
    gets = count_requests(own_client, "GetObject")
    with storage.open(path) as handle:
        chunks = list(iter(lambda: handle.read(8192), b""))
    assert b"".join(chunks) == content
    assert len(gets) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda s3, bucket, key: s3.delete_object(Bucket=bucket, Key=key), id="deleted"
        ),
        pytest.param(
            lambda s3, bucket, key: s3.put_object(Bucket=bucket, Key=key, Body=b"other" * 50_000),
            id="replaced",
        ),
    ],
)
def test_a_reader_never_mixes_in_bytes_of_another_object(
    storage: S3Storage,
    s3: S3Client,
    s3_bucket: str,
    change: Callable[[S3Client, str, str], object],
) -> None:
    content = b"first" * 50_000
    path = blob_path(content)
    storage.put(path, io.BytesIO(content))
    with storage.open(path) as handle:
        assert handle.read(10) == content[:10]
        change(s3, s3_bucket, f"pre/fix/{path}")
        # Beyond what was buffered, the reader has to ask for the rest again.
        handle.seek(200_000)
        with pytest.raises(OSError, match="s3://"):
            handle.read(10)


def test_there_is_no_local_path_to_serve_from(storage: S3Storage) -> None:
    path = blob_path(b"remote")
    storage.put(path, io.BytesIO(b"remote"))
    assert storage.local_path(path) is None
    with pytest.raises(StorageError):
        storage.local_path("../outside")


# --- presigned downloads ------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "demo-1.0-py3-none-any.whl",
        "demo pkg+local-1.0.tar.gz",
        "démo_ünï-1.0%2F~&=;@$!'()*.tar.gz",
    ],
)
def test_a_presigned_url_serves_the_blob(storage: S3Storage, filename: str) -> None:
    content = f"the bytes of {filename}".encode()
    path = blob_path(content, filename)
    storage.put(path, io.BytesIO(content))
    url = storage.presigned_url(path, 300)
    assert url is not None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    # Signature version 4: what AWS regions and S3-compatible stores all accept.
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert fetch(url) == content


def test_presigned_urls_come_only_from_backends_that_make_them(
    storage: S3Storage, tmp_path: Path
) -> None:
    path = blob_path(b"either way")
    storage.put(path, io.BytesIO(b"either way"))
    url = presigned_url(storage, path, 60)
    assert url is not None
    assert fetch(url) == b"either way"
    local = LocalStorage(tmp_path / "files")
    local.put(path, io.BytesIO(b"either way"))
    assert presigned_url(local, path, 60) is None


@pytest.mark.parametrize("seconds", [0, -1, MAX_PRESIGN_SECONDS + 1])
def test_presigned_urls_last_between_a_second_and_a_week(storage: S3Storage, seconds: int) -> None:
    with pytest.raises(ValueError, match="seconds"):
        storage.presigned_url(blob_path(b"x"), seconds)
    assert storage.presigned_url(blob_path(b"x"), MAX_PRESIGN_SECONDS) is not None


# --- failures of the store itself ---------------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The standard AWS environment, and nothing from the machine's own AWS set-up."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    return monkeypatch


def every_operation(storage: S3Storage) -> Iterator[Callable[[], object]]:
    path = blob_path(b"anything")
    yield lambda: storage.put(path, io.BytesIO(b"anything"))
    yield lambda: storage.open(path)
    yield lambda: storage.size(path)
    yield lambda: list(storage.iter_paths())


def test_a_missing_bucket_is_a_storage_error(s3: S3Client) -> None:
    storage = S3Storage(s3, S3Location("wheelyard-no-such-bucket"))
    for operation in every_operation(storage):
        with pytest.raises(StorageError):
            operation()


def test_an_unreachable_store_is_a_storage_error(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    aws_env.setenv("AWS_MAX_ATTEMPTS", "1")  # nothing to gain from retrying here
    storage = S3Storage.from_url("s3://wheels/files")
    operations: list[Callable[[], object]] = [
        *every_operation(storage),
        lambda: storage.exists(blob_path(b"x")),
    ]
    for operation in operations:
        with pytest.raises(StorageError, match="cannot"):
            operation()


# --- chosen by the settings ---------------------------------------------------------


@dataclass(frozen=True)
class StorageSettings(Settings):
    # What config.Settings is to gain (WHEELYARD_STORAGE_URL); until then, a subclass.
    storage_url: str | None = None


def test_without_a_storage_url_files_stay_local(tmp_path: Path) -> None:
    for settings in (
        Settings(storage_path=tmp_path / "files"),
        StorageSettings(storage_path=tmp_path / "files", storage_url=""),
    ):
        storage = create_storage(settings)
        assert isinstance(storage, LocalStorage)
        assert storage.root == (tmp_path / "files").resolve()


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
def test_an_s3_url_stores_in_the_store_the_aws_settings_name(
    aws_env: pytest.MonkeyPatch,
    moto_server: MotoServer,
    s3: S3Client,
    s3_bucket: str,
    tmp_path: Path,
    variable: str,
) -> None:
    aws_env.setenv(variable, moto_server.endpoint_url)
    settings = StorageSettings(
        storage_path=tmp_path / "files", storage_url=f"s3://{s3_bucket}/team"
    )
    storage = create_storage(settings)
    assert isinstance(storage, S3Storage)
    assert storage.location == S3Location(s3_bucket, "team/")

    path = blob_path(b"via settings")
    storage.put(path, io.BytesIO(b"via settings"))
    assert stored_object(s3, s3_bucket, f"team/{path}") == b"via settings"
    assert not (tmp_path / "files").exists()


@pytest.mark.parametrize("url", ["gs://wheels/files", "file:///srv/files", "/srv/files"])
def test_other_storage_urls_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="unsupported storage URL"):
        create_storage(StorageSettings(storage_path=tmp_path / "files", storage_url=url))


def test_unfinished_multipart_uploads_are_aborted_once_old(
    storage: S3Storage, s3: S3Client, s3_bucket: str
) -> None:
    """A process killed mid-upload leaves its parts stored (and billed) until aborted."""
    path = blob_path(b"killed")
    upload = s3.create_multipart_upload(Bucket=s3_bucket, Key=f"pre/fix/{path}")
    s3.upload_part(
        Bucket=s3_bucket, Key=f"pre/fix/{path}", UploadId=upload["UploadId"], PartNumber=1,
        Body=b"x" * MIN_PART_SIZE,
    )  # fmt: skip
    # Someone else's, outside our prefix: never ours to abort.
    other = s3.create_multipart_upload(Bucket=s3_bucket, Key="elsewhere/blob")

    # moto says every upload was initiated on 2010-11-10: a cutoff before that makes it young,
    # and a young upload may still be under way.
    assert storage.remove_leftovers(dt.datetime(2010, 1, 1, tzinfo=dt.UTC)) == 0
    assert storage.remove_leftovers(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)) == 1

    remaining = s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert [entry["UploadId"] for entry in remaining] == [other["UploadId"]]
    assert not storage.exists(path)
