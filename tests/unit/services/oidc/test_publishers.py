"""Matching a verified token's claims against GitHub, GitLab and other issuers' publishers."""

from __future__ import annotations

from typing import Any

import pytest

from wheelyard.data.trusted_publisher import PublisherKind, TrustedPublisher
from wheelyard.services.oidc import publishers

GITHUB = publishers.GITHUB_ISSUER
GITLAB = publishers.GITLAB_ISSUER


def github(**more: Any) -> TrustedPublisher:
    fields: dict[str, Any] = {
        "kind": PublisherKind.GITHUB, "issuer": GITHUB, "repository": "Acme/Widgets",
        "workflow": "release.yml", "environment": None, "owner_id": None, "claims": {},
    }  # fmt: skip
    return TrustedPublisher(**{**fields, **more})


def github_claims(**more: Any) -> dict[str, Any]:
    ref = "acme/widgets/.github/workflows/release.yml@refs/tags/v1"
    claims = {
        "iss": GITHUB, "repository": "acme/widgets", "repository_owner_id": "42",
        "workflow_ref": ref, "job_workflow_ref": ref,
    }  # fmt: skip
    return {**claims, **more}


@pytest.mark.parametrize(
    ("publisher", "claims", "expected"),
    [
        (github(), github_claims(), True),
        (github(), github_claims(repository="acme/gadgets"), False),
        (github(workflow="ci.yml"), github_claims(), False),
        # A reusable workflow of the repository, called from another of its workflows.
        (
            github(),
            github_claims(workflow_ref="acme/widgets/.github/workflows/main.yml@refs/heads/x"),
            True,
        ),
        (
            github(),
            github_claims(
                workflow_ref="acme/widgets/.github/workflows/main.yml@x",
                job_workflow_ref="other/repo/.github/workflows/release.yml@x",
            ),
            False,
        ),
        # A workflow of the same name in another repository names that repository.
        (
            github(),
            github_claims(
                workflow_ref="acme/widgets-fork/.github/workflows/release.yml@x",
                job_workflow_ref=None,
            ),
            False,
        ),
        (github(owner_id="42"), github_claims(), True),
        (github(owner_id="43"), github_claims(), False),
        (github(environment="pypi"), github_claims(), False),
        (github(environment="pypi"), github_claims(environment="PyPI"), True),
    ],
)  # fmt: skip
def test_github(publisher: TrustedPublisher, claims: dict[str, Any], expected: bool) -> None:
    assert publishers.matches(publisher, claims) is expected


def gitlab(**more: Any) -> TrustedPublisher:
    fields: dict[str, Any] = {
        "kind": PublisherKind.GITLAB, "issuer": GITLAB, "repository": "acme/tools/widgets",
        "workflow": ".gitlab-ci.yml", "environment": None, "claims": {},
    }  # fmt: skip
    return TrustedPublisher(**{**fields, **more})


def gitlab_claims(host: str = "gitlab.com", **more: Any) -> dict[str, Any]:
    claims = {
        "project_path": "acme/tools/widgets",
        "ci_config_ref_uri": f"{host}/acme/tools/widgets//.gitlab-ci.yml@refs/heads/main",
    }
    return {**claims, **more}


@pytest.mark.parametrize(
    ("publisher", "claims", "expected"),
    [
        (gitlab(), gitlab_claims(), True),
        (gitlab(), gitlab_claims(project_path="acme/tools/other"), False),
        (gitlab(workflow="ci/release.yml"), gitlab_claims(), False),
        (gitlab(environment="prod"), gitlab_claims(environment="prod"), True),
        (gitlab(environment="prod"), gitlab_claims(), False),
        # Self-hosted: the CI file's URI names the issuer's host.
        (gitlab(issuer="https://git.acme.test"), gitlab_claims("git.acme.test"), True),
        (gitlab(issuer="https://git.acme.test"), gitlab_claims(), False),
    ],
)
def test_gitlab(publisher: TrustedPublisher, claims: dict[str, Any], expected: bool) -> None:
    assert publishers.matches(publisher, claims) is expected


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"repository": "acme/widgets", "ref": "refs/tags/v1"}, True),
        ({"repository": "acme/widgets", "ref": "refs/tags/v1", "more": "x"}, True),
        ({"repository": "acme/widgets"}, False),
        ({"repository": "acme/widgets", "ref": "refs/tags/v2"}, False),
        ({"repository": ["acme/widgets"], "ref": "refs/tags/v1"}, False),
    ],
)
def test_any_issuer_needs_every_claim_exactly(claims: dict[str, Any], expected: bool) -> None:
    publisher = TrustedPublisher(
        kind=PublisherKind.OIDC,
        issuer="https://ci.example.test",
        claims={"repository": "acme/widgets", "ref": "refs/tags/v1"},
    )
    assert publishers.matches(publisher, claims) is expected


def test_describe() -> None:
    assert publishers.describe(github()) == "Acme/Widgets by release.yml"
    assert (
        publishers.describe(gitlab(issuer="https://git.acme.test", environment="prod"))
        == "acme/tools/widgets by .gitlab-ci.yml (environment prod) on git.acme.test"
    )
