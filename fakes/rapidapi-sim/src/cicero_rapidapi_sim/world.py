"""The dataset resolved against a simulated day, indexed and pre-rendered in the APIs' JSON shapes.

Resolving once (instead of on every request) keeps handlers trivial and means a dataset replacement is a
single reference swap: a request sees either the old world or the new one, never a mix.

Feed order mimics the real apps: pinned items first (they can be old, which is exactly what a consumer's
"stop paging once older than today" rule has to cope with), then everything else newest first.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from .dataset import Dataset, IgAccount, IgPost, TtAccount, TtVideo, resolve_time

JsonObj = dict[str, Any]

_IG_POST_URL = re.compile(r"instagram\.com/(?:[A-Za-z0-9._]+/)?(?:p|reel|reels|tv)/([A-Za-z0-9_-]+)")
_IG_PROFILE_URL = re.compile(r"instagram\.com/([A-Za-z0-9._]+)")


def fake_numeric_id(seed: str, digits: int = 11) -> str:
    """Stable ids for people the dataset names only by handle, so repeated calls agree with each other."""
    value = zlib.crc32(seed.encode("utf-8")) % (10 ** (digits - 1))
    return str(10 ** (digits - 1) * 4 + value)


def _display_name(handle: str) -> str:
    return " ".join(part.capitalize() for part in re.split(r"[._]+", handle) if part)


@dataclass(frozen=True)
class IgPostView:
    item: JsonObj
    likers: list[JsonObj | str]
    comments: list[JsonObj]
    taken_at: int
    is_pinned: bool
    # The dataset entry this view renders: a run-time change re-renders only the posts whose entry changed.
    source: IgPost | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IgAccountView:
    username: str
    user_id: str
    posts: list[IgPostView]


@dataclass(frozen=True)
class TtVideoView:
    item: JsonObj
    comments: list[JsonObj]
    create_time: int
    is_pinned: bool
    source: TtVideo | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TtAccountView:
    unique_id: str
    sec_uid: str
    user_id: str
    nickname: str
    videos: list[TtVideoView]


def _feed_order(pinned: bool, moment: int) -> tuple[int, int]:
    return (0 if pinned else 1, -moment)


def _ig_post(account: IgAccount, post: IgPost, today: date) -> IgPostView:
    taken_at = resolve_time(post.taken_at, today)
    post_id = post.id or f"{fake_numeric_id(post.code, 19)}_{account.user_id}"
    caption: JsonObj | str | None
    if post.caption is None:
        caption = None
    elif post.caption_as_string:
        caption = post.caption
    else:
        caption = {"text": post.caption, "created_at": taken_at}
    image = f"https://scontent.cdninstagram.com/sim/{post.code}_1080.jpg"
    item: JsonObj = {
        "id": post_id,
        "pk": post_id.split("_", 1)[0],
        "code": post.code,
        "taken_at": taken_at,
        "media_type": post.media_type,
        "is_video": post.is_video,
        "is_pinned": post.is_pinned,
        "like_count": post.like_count if post.like_count is not None else len(post.likers),
        "comment_count": post.comment_count if post.comment_count is not None else len(post.comments),
        "caption": caption,
        "thumbnail_url": f"https://scontent.cdninstagram.com/sim/{post.code}_640.jpg",
        "user": {"id": account.user_id, "username": account.username},
    }
    if post.is_video:
        item["video_versions"] = [{"url": f"https://scontent.cdninstagram.com/sim/{post.code}.mp4"}]
    else:
        item["image_versions"] = {"items": [{"url": image}]}
    likers: list[JsonObj | str] = [
        handle
        if post.likers_as_strings
        else {"id": fake_numeric_id(handle), "username": handle, "full_name": _display_name(handle)}
        for handle in post.likers
    ]
    rendered_comments: list[JsonObj] = [
        {
            "id": c.id or fake_numeric_id(f"{post.code}/{index}/{c.username}", 17),
            "text": c.text,
            "created_at": resolve_time(c.created_at, today),
            "user": {"id": fake_numeric_id(c.username), "username": c.username},
        }
        for index, c in enumerate(post.comments)
    ]
    rendered_comments.sort(key=lambda c: -int(c["created_at"]))
    return IgPostView(item, likers, rendered_comments, taken_at, post.is_pinned, post)


def _tt_video(account: TtAccount, video: TtVideo, today: date) -> TtVideoView:
    create_time = resolve_time(video.createTime, today)
    stats = video.stats
    item: JsonObj = {
        "id": video.id,
        "desc": video.desc,
        "createTime": create_time,
        "isPinnedItem": video.isPinnedItem,
        "author": {
            "id": account.id,
            "uniqueId": account.uniqueId,
            "secUid": account.secUid,
            "nickname": account.nickname or account.uniqueId,
        },
        "stats": {
            "diggCount": stats.diggCount,
            "commentCount": stats.commentCount if stats.commentCount is not None else len(video.comments),
            "playCount": stats.playCount,
            "shareCount": stats.shareCount,
        },
        "video": {"cover": f"https://p16-sign.tiktokcdn.com/sim/{video.id}.jpeg"},
    }
    comments: list[JsonObj] = [
        {
            "cid": c.cid or fake_numeric_id(f"{video.id}/{index}/{c.unique_id}", 19),
            "text": c.text,
            "create_time": resolve_time(c.create_time, today),
            "aweme_id": video.id,
            "digg_count": 0,
            "user": {"uid": fake_numeric_id(c.unique_id, 19), "unique_id": c.unique_id},
        }
        for index, c in enumerate(video.comments)
    ]
    comments.sort(key=lambda c: -int(c["create_time"]))
    return TtVideoView(item, comments, create_time, video.isPinnedItem, video)


@dataclass
class World:
    today: date
    ig_accounts: dict[str, IgAccountView] = field(default_factory=dict)
    ig_posts: dict[str, IgPostView] = field(default_factory=dict)
    tt_by_unique_id: dict[str, TtAccountView] = field(default_factory=dict)
    tt_by_sec_uid: dict[str, TtAccountView] = field(default_factory=dict)
    tt_videos: dict[str, TtVideoView] = field(default_factory=dict)

    def find_ig_account(self, key: str) -> IgAccountView | None:
        """Accept what the real ``username_or_id_or_url`` accepts: a handle, a user id or a profile link."""
        key = key.strip()
        match = _IG_PROFILE_URL.search(key)
        if match is not None:
            key = match.group(1)
        return self.ig_accounts.get(key.lstrip("@").lower())

    def find_ig_post(self, key: str) -> IgPostView | None:
        """Accept a shortcode, a media id (with or without the ``_<user id>`` suffix) or a post link."""
        key = key.strip()
        match = _IG_POST_URL.search(key)
        if match is not None:
            key = match.group(1)
        return self.ig_posts.get(key)

    def find_tt_account(self, unique_id: str) -> TtAccountView | None:
        return self.tt_by_unique_id.get(unique_id.strip().lstrip("@").lower())


def ig_account_view(account: IgAccount, today: date, previous: IgAccountView | None = None) -> IgAccountView:
    """Render one account; posts whose dataset entry is unchanged (same object) reuse ``previous``'s view."""
    reusable = {id(view.source): view for view in previous.posts} if previous is not None else {}
    posts: list[IgPostView] = []
    for post in account.posts:
        old = reusable.get(id(post))
        posts.append(old if old is not None and old.source is post else _ig_post(account, post, today))
    posts.sort(key=lambda p: _feed_order(p.is_pinned, p.taken_at))
    return IgAccountView(account.username, account.user_id, posts)


def tt_account_view(account: TtAccount, today: date, previous: TtAccountView | None = None) -> TtAccountView:
    reusable = {id(view.source): view for view in previous.videos} if previous is not None else {}
    videos: list[TtVideoView] = []
    for video in account.videos:
        old = reusable.get(id(video))
        videos.append(old if old is not None and old.source is video else _tt_video(account, video, today))
    videos.sort(key=lambda v: _feed_order(v.is_pinned, v.create_time))
    return TtAccountView(account.uniqueId, account.secUid, account.id, account.nickname or account.uniqueId, videos)


def ig_post_keys(view: IgPostView) -> list[str]:
    """Every key a post is found by: shortcode, media id and its numeric part."""
    return [str(view.item["code"]), str(view.item["id"]), str(view.item["pk"])]


def ig_account_keys(view: IgAccountView) -> list[str]:
    return [view.username.lower(), view.user_id]


def _index_ig(world: World, account: IgAccountView) -> None:
    for key in ig_account_keys(account):
        world.ig_accounts[key] = account
    for view in account.posts:
        for key in ig_post_keys(view):
            world.ig_posts[key] = view


def _index_tt(world: World, account: TtAccountView) -> None:
    world.tt_by_unique_id[account.unique_id.lower()] = account
    world.tt_by_sec_uid[account.sec_uid] = account
    for view in account.videos:
        world.tt_videos[str(view.item["id"])] = view


def with_ig_account(world: World, old: IgAccountView | None, new: IgAccountView) -> World:
    """A new world where ``new`` replaces ``old`` (or is added); ``world`` itself is left untouched."""
    result = replace(world, ig_accounts=dict(world.ig_accounts), ig_posts=dict(world.ig_posts))
    if old is not None:
        for key in ig_account_keys(old):
            result.ig_accounts.pop(key, None)
        for view in old.posts:
            for key in ig_post_keys(view):
                result.ig_posts.pop(key, None)
    _index_ig(result, new)
    return result


def with_tt_account(world: World, old: TtAccountView | None, new: TtAccountView) -> World:
    result = replace(
        world,
        tt_by_unique_id=dict(world.tt_by_unique_id),
        tt_by_sec_uid=dict(world.tt_by_sec_uid),
        tt_videos=dict(world.tt_videos),
    )
    if old is not None:
        result.tt_by_unique_id.pop(old.unique_id.lower(), None)
        result.tt_by_sec_uid.pop(old.sec_uid, None)
        for view in old.videos:
            result.tt_videos.pop(str(view.item["id"]), None)
    _index_tt(result, new)
    return result


def build_world(dataset: Dataset, today: date) -> World:
    world = World(today=today)
    for ig in dataset.instagram:
        _index_ig(world, ig_account_view(ig, today))
    for tt in dataset.tiktok:
        _index_tt(world, tt_account_view(tt, today))
    return world
