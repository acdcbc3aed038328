"""File storage in an S3-compatible object store (AWS S3, MinIO, Ceph, R2, ...), via boto3.

``s3://bucket/prefix`` names where blobs go; the endpoint, credentials and region come from
the standard AWS settings (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_PROFILE``, the
shared config files...), which boto3 reads itself.

An object appears whole or not at all, so writes are atomic without temporary names.
Blobs are never overwritten: every write is conditional (``If-None-Match: *``), which AWS
S3 and the current S3 clones honour. The credentials need s3:GetObject, s3:PutObject,
s3:DeleteObject, s3:AbortMultipartUpload and s3:ListBucket (without ListBucket, S3 answers
403 instead of 404 for a missing key).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wheelyard.storage.base import BlobMissing, StorageError, StoredBlob

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        GetObjectOutputTypeDef,
        UploadPartOutputTypeDef,
    )
    from typing_extensions import Buffer as WriteableBuffer

# S3 allows parts of 5 MiB to 5 GiB and at most 10,000 of them; 8 MiB parts keep one part
# in memory per upload and still reach 80 GB, far beyond any distribution file.
PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
# Readers buffer this much between requests for the next bytes of the response.
READ_BUFFER = 64 * 1024
# SigV4 presigned URLs cannot live longer than a week.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
# The web server's thread pool (anyio's default: 40 threads) may read that many blobs at
# once; a smaller pool would open and drop a connection per request beyond it.
MAX_POOL_CONNECTIONS = 50
# GET answers NoSuchKey; HEAD has no body, so only its status says what happened.
_MISSING_CODES = {"NoSuchKey", "NotFound", "404"}
_PART_CHECKSUMS = (
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
)


@dataclass(frozen=True)
class S3Location:
    """Where the blobs live: a bucket and a key prefix ("" or ending in "/")."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        if parts.query or parts.fragment or "@" in parts.netloc or ":" in parts.netloc:
            # Credentials and endpoints come from the AWS settings, never from this URL.
            raise ValueError(f"an s3:// URL names only a bucket and a prefix: {url!r}")
        segments = [segment for segment in parts.path.split("/") if segment]
        if any(segment in {".", ".."} for segment in segments):
            raise ValueError(f"the prefix of an s3:// URL cannot hold . or ..: {url!r}")
        return cls(parts.netloc, "".join(f"{segment}/" for segment in segments))


def s3_client(
    session: boto3.session.Session | None = None, endpoint_url: str | None = None
) -> S3Client:
    """A client configured from the standard AWS settings unless told otherwise.

    With ``endpoint_url`` None, boto3 itself reads ``AWS_ENDPOINT_URL_S3`` or
    ``AWS_ENDPOINT_URL`` (and the ``endpoint_url`` of the shared config file).
    """
    # SigV4 for every request and presigned URL: the legacy signature that botocore may
    # still pick for presigning is refused by newer AWS regions and by many S3 clones.
    config = Config(signature_version="s3v4", max_pool_connections=MAX_POOL_CONNECTIONS)
    session = session or boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url, config=config)


class _MissingBlob(BlobMissing):
    """The object is not there."""


class _ConditionFailed(StorageError):
    """A conditional request found the object other than it required."""


@contextlib.contextmanager
def _storage_errors(action: str, path: str) -> Iterator[None]:
    """Turn boto3's errors into StorageError, so callers handle one kind of failure."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _MISSING_CODES:
            raise _MissingBlob(f"no such blob: {path}") from error
        if code == "PreconditionFailed":
            raise _ConditionFailed(f"cannot {action} {path}: precondition failed") from error
        raise StorageError(f"cannot {action} {path}: {error}") from error
    except BotoCoreError as error:  # no credentials, endpoint unreachable, timeouts...
        raise StorageError(f"cannot {action} {path}: {error}") from error


class S3Storage:
    def __init__(
        self, client: S3Client, location: S3Location, *, part_size: int = PART_SIZE
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts are at least {MIN_PART_SIZE} bytes")
        self.client = client
        self.location = location
        self.part_size = part_size

    @classmethod
    def from_url(cls, url: str, client: S3Client | None = None) -> S3Storage:
        return cls(client or s3_client(), S3Location.parse(url))

    @property
    def bucket(self) -> str:
        return self.location.bucket

    def _key(self, path: str) -> str:
        # Object keys are plain strings, but URLs built from them (presigned ones included)
        # get normalized by HTTP clients, where "." or ".." would name another object.
        segments = path.split("/")
        if "\\" in path or any(segment in {"", ".", ".."} for segment in segments):
            raise StorageError(f"not a storage path: {path!r}")
        return self.location.prefix + path

    def put(self, path: str, source: BinaryIO) -> None:
        key = self._key(path)
        if self._renew(path, key):
            return  # content-addressed: the same path already holds the same bytes
        parts = _parts(source, self.part_size)
        first = next(parts, b"")
        try:
            if len(first) < self.part_size:
                with _storage_errors("store", path):
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=first, IfNoneMatch="*")
            else:
                pending = _prepended(first, parts)
                del first  # the upload holds one part at a time, this one included
                self._put_in_parts(path, key, pending)
        except _ConditionFailed:
            # Another writer stored this path between our check and our write. The
            # condition kept its object, which holds the same bytes as ours. (While such a
            # write is still in flight, S3 answers 409 ConditionalRequestConflict instead:
            # that is a StorageError, and the upload may simply be retried.)
            return

    def _renew(self, path: str, key: str) -> bool:
        """Make an existing object new again; False when there is none.

        It may be the orphan of a crashed upload that this upload is about to claim: a
        fresh LastModified keeps garbage collection off it until the row is committed.
        Copying an object onto itself (allowed when its metadata is replaced) rewrites it
        inside the store, without the bytes passing through us. Rare: a file already
        registered never gets this far.
        """
        if not self.exists(path):
            return False
        try:
            with _storage_errors("renew", path):
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    MetadataDirective="REPLACE",
                )
        except _MissingBlob:
            return False  # collected in between: store it anew
        return True

    def _abort(self, key: str, upload_id: str) -> int:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                return 0  # it finished or was aborted since the listing
            raise
        return 1

    def _put_in_parts(self, path: str, key: str, parts: Iterator[bytes]) -> None:
        with _storage_errors("store", path):
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            completed: list[CompletedPartTypeDef] = []
            while (part := next(parts, None)) is not None:
                number = len(completed) + 1
                with _storage_errors("store", path):
                    uploaded = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=part,
                    )
                completed.append(_completed_part(number, uploaded))
                del part  # before the next one is read
            # The object appears only now, whole, and only if nobody created it meanwhile.
            with _storage_errors("store", path):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": completed},
                    IfNoneMatch="*",
                )
        except BaseException:
            # The parts of an unfinished upload are kept (and billed) until it is aborted.
            # If even the abort fails, a bucket lifecycle rule for incomplete multipart
            # uploads is the backstop.
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def open(self, path: str) -> BinaryIO:
        key = self._key(path)
        with _storage_errors("read", path):
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        reader = _ObjectReader(self.client, self.bucket, key, response)
        return io.BufferedReader(reader, buffer_size=READ_BUFFER)

    def exists(self, path: str) -> bool:
        try:
            self.size(path)
        except _MissingBlob:
            return False
        return True

    def size(self, path: str) -> int:
        key = self._key(path)
        with _storage_errors("check", path):
            return self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]

    def delete(self, path: str) -> None:
        key = self._key(path)
        # S3 answers the delete of an absent key with success, as this method promises.
        with _storage_errors("delete", path):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def modified(self, path: str) -> dt.datetime:
        key = self._key(path)
        with _storage_errors("check", path):
            return self.client.head_object(Bucket=self.bucket, Key=key)["LastModified"]

    def local_path(self, path: str) -> Path | None:
        self._key(path)  # the same paths are refused as by every other method
        return None

    def presigned_url(self, path: str, expires_seconds: int) -> str:
        if not 0 < expires_seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"presigned URLs last 1 to {MAX_PRESIGN_SECONDS} seconds")
        key = self._key(path)
        with _storage_errors("sign", path):
            return self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=expires_seconds,
            )

    def iter_paths(self) -> Iterator[str]:
        for blob in self.iter_blobs():
            yield blob.path

    def iter_blobs(self) -> Iterator[StoredBlob]:
        prefix = self.location.prefix
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        with _storage_errors("list", f"s3://{self.bucket}/{prefix}"):
            for page in pages:
                for entry in page.get("Contents", []):
                    key = entry["Key"]
                    # Consoles create "folder/" markers; they hold no blob.
                    if not key.endswith("/"):
                        yield StoredBlob(key[len(prefix) :], entry["Size"], entry["LastModified"])

    def remove_leftovers(self, older_than: dt.datetime) -> int:
        # A process killed during a multipart upload leaves its parts stored (and billed)
        # until the upload is aborted; younger uploads may still be under way.
        prefix = self.location.prefix
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        removed = 0
        with _storage_errors("list uploads in", f"s3://{self.bucket}/{prefix}"):
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < older_than:
                        removed += self._abort(upload["Key"], upload["UploadId"])
        return removed


def _parts(source: BinaryIO, size: int) -> Iterator[bytes]:
    """The bytes of ``source`` in parts of ``size``; only the last is shorter."""
    while True:
        part = _read_up_to(source, size)
        if part:
            yield part
        if len(part) < size:
            return
        del part  # before the next one is read, so that one part is held at a time


def _read_up_to(source: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        # A raw stream may return fewer bytes than asked for before its end.
        chunk = source.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _prepended(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    # Unlike itertools.chain, lets go of the first part once it has been handed on.
    yield first
    del first
    yield from rest


def _completed_part(number: int, uploaded: UploadPartOutputTypeDef) -> CompletedPartTypeDef:
    part: CompletedPartTypeDef = {"PartNumber": number, "ETag": uploaded["ETag"]}
    # botocore adds a checksum to each part by default; the completion must repeat it.
    for name in _PART_CHECKSUMS:
        if name in uploaded:
            part[name] = uploaded[name]  # type: ignore[literal-required]
    return part


class _ObjectReader(io.RawIOBase):
    """A seekable stream over one object, read as the bytes are asked for.

    Reading straight on consumes one GET response; a seek elsewhere (zipfile jumps to the
    central directory at the end of a wheel) drops it and asks for the rest from there.
    """

    def __init__(
        self, client: S3Client, bucket: str, key: str, response: GetObjectOutputTypeDef
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._size = response["ContentLength"]
        # Later ranges must come from this same object, not one put there meanwhile.
        self._etag = response["ETag"]
        self._body: StreamingBody | None = response["Body"]
        self._body_position = 0
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"invalid whence: {whence}")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self._position >= self._size:
            return 0
        view = memoryview(buffer).cast("B")
        body = self._body_at(self._position)
        try:
            data = body.read(len(view))
        except (ClientError, BotoCoreError) as error:
            raise OSError(f"reading s3://{self._bucket}/{self._key} failed: {error}") from error
        view[: len(data)] = data
        self._position += len(data)
        self._body_position = self._position
        return len(data)

    def _body_at(self, position: int) -> StreamingBody:
        if self._body is not None and self._body_position == position:
            return self._body
        self._drop_body()
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={position}-", IfMatch=self._etag
            )
        except (ClientError, BotoCoreError) as error:
            raise OSError(f"reading s3://{self._bucket}/{self._key} failed: {error}") from error
        self._body = response["Body"]
        self._body_position = position
        return self._body

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop_body()
        super().close()
