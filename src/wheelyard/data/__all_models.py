# Every model module, in alphabetical order, so one glance tells whether a table is listed
# and SqlAlchemyBase.metadata knows them all (Alembic and the tests rely on it).
# ruff: noqa: F401
from wheelyard.data import (
    api_token,
    audit,
    download,
    download_breakdown,
    download_count,
    download_recent,
    download_spool_segment,
    download_total,
    file_registry,
    index_count,
    journal,
    language,
    license,
    maintainer,
    package,
    package_classifier,
    package_language,
    package_size,
    password_reset,
    recovery_code,
    release,
    release_file,
    user,
)
