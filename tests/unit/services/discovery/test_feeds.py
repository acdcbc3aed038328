"""services.discovery.feeds: which releases and projects each feed lists, and their RSS."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.package import Package
from wheelyard.services.discovery import feeds

BASE = "https://pkgs.example.com/"
DC = "{http://purl.org/dc/elements/1.1/}"
ATOM = "{http://www.w3.org/2005/Atom}"
DAY = dt.datetime(2024, 3, 1, 12, 0, 0)


def at(hours: int) -> dt.datetime:
    return DAY + dt.timedelta(hours=hours)


def parse(feed: feeds.Feed, now: dt.datetime | None = None) -> ET.Element:
    document = feeds.render(feed, BASE, now=now)
    root = ET.fromstring(document)  # noqa: S314 - our own output, parsed in a test
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    return channel


def texts(channel: ET.Element, tag: str) -> list[str]:
    return [item.findtext(tag) or "" for item in channel.findall("item")]


def project(make: Factory, name: str, *, created: dt.datetime | None = None) -> Package:
    package = make.package(name, versions=())
    if created is not None:
        package.created_date = created
        make.db.flush()
    return package


def test_updates_lists_the_newest_releases_across_projects(db: Session, make: Factory) -> None:
    a, b = project(make, "Alpha"), project(make, "beta")
    make.release(a, "1.0", created=at(1))
    make.release(b, "0.1", created=at(2))
    make.release(a, "2.0", created=at(3))
    make.release(b, "0.0.1", created=at(0))

    channel = parse(feeds.updates(db, "yard"))

    assert texts(channel, "title") == ["Alpha 2.0", "beta 0.1", "Alpha 1.0", "beta 0.0.1"]
    assert texts(channel, "link") == [
        "https://pkgs.example.com/project/alpha/2.0/",
        "https://pkgs.example.com/project/beta/0.1/",
        "https://pkgs.example.com/project/alpha/1.0/",
        "https://pkgs.example.com/project/beta/0.0.1/",
    ]
    dates = [parsedate_to_datetime(text) for text in texts(channel, "pubDate")]
    assert dates == [moment.replace(tzinfo=dt.UTC) for moment in (at(3), at(2), at(1), at(0))]


def test_channel_fields(db: Session, make: Factory) -> None:
    make.release(project(make, "alpha"), "1.0", created=at(5))

    channel = parse(feeds.updates(db, "yard"))

    assert channel.findtext("title") == "yard recent updates"
    assert channel.findtext("link") == "https://pkgs.example.com/"
    assert channel.findtext("description")
    assert channel.findtext("language") == "en"
    # The newest item's date, so an unchanged feed renders to the same bytes.
    assert channel.findtext("lastBuildDate") == "Fri, 01 Mar 2024 17:00:00 GMT"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.attrib == {
        "href": "https://pkgs.example.com/rss/updates.xml",
        "rel": "self",
        "type": "application/rss+xml",
    }


def test_an_empty_feed_is_dated_now(db: Session) -> None:
    channel = parse(feeds.updates(db, "yard"), now=at(0))

    assert channel.findall("item") == []
    assert channel.findtext("lastBuildDate") == "Fri, 01 Mar 2024 12:00:00 GMT"


def test_guid_is_the_permalink(db: Session, make: Factory) -> None:
    make.release(project(make, "alpha"), "1.0+cpu", created=at(1))

    item = parse(feeds.updates(db, "yard")).find("item")

    assert item is not None
    guid = item.find("guid")
    assert guid is not None
    assert guid.get("isPermaLink") == "true"
    assert guid.text == item.findtext("link") == "https://pkgs.example.com/project/alpha/1.0+cpu/"


def test_user_text_is_escaped_and_survives_the_round_trip(db: Session, make: Factory) -> None:
    package = make.package("alpha", versions=(), summary='<script>&"')
    package.author_name = "Ada <b>&</b>"
    make.release(package, "1.0")

    document = feeds.render(feeds.updates(db, "<yard>"), BASE)

    assert b"<script>" not in document
    assert b"<b>" not in document
    assert b"&lt;script&gt;&amp;" in document
    channel = ET.fromstring(document)  # noqa: S314 - our own output, parsed in a test
    assert channel.findtext("channel/title") == "<yard> recent updates"
    assert channel.findtext("channel/item/description") == '<script>&"'
    assert channel.findtext("channel/item/author") == "ada@example.com (Ada <b>&</b>)"


def test_characters_xml_cannot_hold_are_dropped() -> None:
    # Built by hand: PostgreSQL would not store the NUL, but SQLite and old imports might.
    item = feeds.Item(
        title="odd\x1b 1.0",
        path="/project/odd/1.0/",
        description="bell\x07 nul\x00 tab\t \ud800ok\ufffe",
        published=at(0),
        author_name="Ada\x0c",
        author_email=None,
    )
    feed = feeds.Feed("t", "/", "d", "/rss/updates.xml", [item])

    channel = parse(feed)

    assert texts(channel, "title") == ["odd 1.0"]
    assert texts(channel, "description") == ["bell nul tab\t ok"]
    assert texts(channel, f"{DC}creator") == ["Ada"]


def test_authors(db: Session, make: Factory) -> None:
    both = make.package("both", versions=())
    both.author_name, both.author_email = "Ada", "ada@example.com, bob@example.com"
    name_only = make.package("name-only", versions=())
    name_only.author_name, name_only.author_email = "Grace", None
    nobody = make.package("nobody", versions=())
    nobody.author_name, nobody.author_email = None, None
    for hours, package in enumerate((both, name_only, nobody)):
        make.release(package, "1.0", created=at(-hours))

    items = parse(feeds.updates(db, "yard")).findall("item")

    assert [item.findtext("author") for item in items] == ["ada@example.com (Ada)", None, None]
    assert [item.findtext(f"{DC}creator") for item in items] == [None, "Grace", None]


def test_a_missing_summary_leaves_out_the_description(db: Session, make: Factory) -> None:
    make.release(make.package("alpha", versions=(), summary=None), "1.0")

    item = parse(feeds.updates(db, "yard")).find("item")

    assert item is not None
    assert item.find("description") is None


def test_updates_holds_forty_releases_at_most(db: Session, make: Factory) -> None:
    package = project(make, "many")
    for n in range(feeds.FEED_LENGTH + 1):
        make.release(package, f"1.{n}", created=at(n), with_file=False)

    listed = texts(parse(feeds.updates(db, "yard")), "title")

    assert feeds.FEED_LENGTH == 40
    assert len(listed) == 40
    assert listed[0] == "many 1.40"
    assert listed[-1] == "many 1.1"
    assert len(feeds.updates(db, "yard", limit=3).items) == 3


def test_new_projects_newest_first_each_with_its_first_release(db: Session, make: Factory) -> None:
    old = project(make, "Old", created=at(0))
    make.release(old, "1.0", created=at(0))
    fresh = project(make, "Fresh", created=at(10))
    make.release(fresh, "0.2", created=at(12))
    make.release(fresh, "0.1", created=at(11))
    # Version order and upload order disagree: the first upload is what announced it.
    make.release(fresh, "0.0.1", created=at(13))
    project(make, "Empty", created=at(5))

    channel = parse(feeds.new_projects(db, "yard"))

    assert channel.findtext("title") == "yard newest packages"
    assert texts(channel, "title") == ["Fresh 0.1", "Empty", "Old 1.0"]
    assert texts(channel, "link") == [
        "https://pkgs.example.com/project/fresh/",
        "https://pkgs.example.com/project/empty/",
        "https://pkgs.example.com/project/old/",
    ]
    dates = [parsedate_to_datetime(text).replace(tzinfo=None) for text in texts(channel, "pubDate")]
    assert dates == [at(11), at(5), at(0)]


def test_new_projects_limit(db: Session, make: Factory) -> None:
    for n in range(4):
        project(make, f"p{n}", created=at(n))

    feed = feeds.new_projects(db, "yard", limit=2)

    assert [item.title for item in feed.items] == ["p3", "p2"]


def test_project_releases_lists_only_that_project_newest_first(db: Session, make: Factory) -> None:
    mine, other = project(make, "Mine_Pkg"), project(make, "other")
    make.release(mine, "1.0", created=at(1))
    make.release(mine, "1!2.0", created=at(3))
    make.release(mine, "1.1", created=at(2), yanked=True)
    make.release(other, "9.0", created=at(4))

    channel = parse(feeds.project_releases(db, mine, "yard"))

    assert channel.findtext("title") == "yard recent updates for Mine_Pkg"
    assert channel.findtext("link") == "https://pkgs.example.com/project/mine-pkg/"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("href") == "https://pkgs.example.com/rss/project/mine-pkg/releases.xml"
    assert texts(channel, "title") == ["Mine_Pkg 1!2.0", "Mine_Pkg 1.1", "Mine_Pkg 1.0"]
    assert texts(channel, "link")[0] == "https://pkgs.example.com/project/mine-pkg/1!2.0/"
    assert len(feeds.project_releases(db, mine, "yard", limit=2).items) == 2


@pytest.mark.parametrize("base", ["http://host:8080", "http://host:8080/"])
def test_links_join_the_base_url_with_one_slash(db: Session, make: Factory, base: str) -> None:
    make.release(project(make, "alpha"), "1.0")

    document = feeds.render(feeds.updates(db, "yard"), base)

    channel = ET.fromstring(document).find("channel")  # noqa: S314 - our own output
    assert channel is not None
    assert channel.findtext("link") == "http://host:8080/"
    assert texts(channel, "link") == ["http://host:8080/project/alpha/1.0/"]
