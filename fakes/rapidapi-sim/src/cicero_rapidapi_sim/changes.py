"""Run-time changes to the simulated world: add or remove a post, add likers or commenters, change counts,
add an account.

Each change takes the JSON body the control endpoint receives (``control.py``), so the HTTP API and the
in-process methods of ``RunningSimulator`` validate and behave identically. A change builds a new dataset
(the frozen models are copied, never mutated) and re-renders only the account it touches, then ``SimState``
publishes both in one assignment: a concurrent request sees the world before or after, never half of it.
Because the dataset itself changes, moving the simulated day later (``replace_dataset(today=...)``) keeps
every change, and relative times in added items resolve against the simulated day like the file's do.

Errors are ``ChangeError``s carrying the HTTP status the control endpoint answers: ``InvalidChange`` (422,
the body is wrong; the message names the field), ``NotFound`` (404, no such account/post/video) and
``Conflict`` (409, a handle, id or shortcode already exists). A failed change changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from .dataset import IgAccount, IgComment, IgPost, TtAccount, TtComment, TtStats, TtVideo
from .state import SimState, Snapshot
from .world import (
    IgAccountView,
    IgPostView,
    TtAccountView,
    TtVideoView,
    ig_account_keys,
    ig_account_view,
    ig_post_keys,
    tt_account_view,
    with_ig_account,
    with_tt_account,
)

JsonObj = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class ChangeError(Exception):
    status_code: ClassVar[int] = 422

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def as_json(self) -> JsonObj:
        body: JsonObj = {"error": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class InvalidChange(ChangeError, ValueError):
    status_code = 422


class NotFound(ChangeError, LookupError):
    status_code = 404


class Conflict(ChangeError):
    status_code = 409


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Handle = StrictStr


class LikersBody(_Body):
    likers: list[Handle] = Field(min_length=1)


class CommentsBody(_Body):
    # Items are checked one by one (a comment object, or a bare handle) so errors can name the item.
    comments: list[Any] = Field(min_length=1)


class IgCountsBody(_Body):
    like_count: StrictInt | None = Field(default=None, ge=0)
    comment_count: StrictInt | None = Field(default=None, ge=0)


class TtStatsPatch(_Body):
    diggCount: StrictInt | None = Field(default=None, ge=0)
    commentCount: StrictInt | None = Field(default=None, ge=0)
    playCount: StrictInt | None = Field(default=None, ge=0)
    shareCount: StrictInt | None = Field(default=None, ge=0)


class TtStatsBody(_Body):
    stats: TtStatsPatch


def _describe(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"])
        where = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "body")
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _validate(model: type[M], data: Any, what: str, prefix: str = "") -> M:
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump()
    elif isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        detail = json.loads(exc.json(include_url=False))
        raise InvalidChange(f"invalid {what}: {_describe(exc, prefix)}", detail) from None


def _handles(body: LikersBody) -> list[str]:
    handles = [handle.strip().lstrip("@") for handle in body.likers]
    empty = [index for index, handle in enumerate(handles) if not handle]
    if empty:
        raise InvalidChange(f"invalid likers: likers.{empty[0]}: a handle cannot be empty")
    return handles


def _comments(raw: list[Any], model: type[M], from_handle: Callable[[str], M]) -> list[M]:
    result: list[M] = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            handle = item.strip().lstrip("@")
            if not handle:
                raise InvalidChange(f"invalid comments: comments.{index}: a handle cannot be empty")
            result.append(from_handle(handle))
        else:
            result.append(_validate(model, item, "comments", f"comments.{index}"))
    return result


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


# --- Instagram -------------------------------------------------------------------------------------------


def _find_ig_account(snapshot: Snapshot, ref: str) -> tuple[int, IgAccount, IgAccountView]:
    view = snapshot.world.find_ig_account(ref)
    if view is None:
        raise NotFound(f"unknown instagram account {ref!r} (give its username or user id)")
    for index, account in enumerate(snapshot.dataset.instagram):
        if account.user_id == view.user_id:
            return index, account, view
    raise NotFound(f"unknown instagram account {ref!r}")  # pragma: no cover - world and dataset agree


def _find_ig_post(snapshot: Snapshot, ref: str) -> tuple[int, IgAccount, IgAccountView, int, IgPost]:
    view = snapshot.world.find_ig_post(ref)
    if view is None:
        raise NotFound(f"unknown instagram post {ref!r} (give its shortcode or media id)")
    index, account, account_view = _find_ig_account(snapshot, str(view.item["user"]["id"]))
    for post_index, post in enumerate(account.posts):
        if post is view.source or post.code == view.item["code"]:
            return index, account, account_view, post_index, post
    raise NotFound(f"unknown instagram post {ref!r}")  # pragma: no cover


def _commit_ig(
    snapshot: Snapshot, index: int | None, old: IgAccountView | None, account: IgAccount
) -> tuple[Snapshot, IgAccountView]:
    accounts = list(snapshot.dataset.instagram)
    if index is None:
        accounts.append(account)
    else:
        accounts[index] = account
    view = ig_account_view(account, snapshot.world.today, old)
    world = with_ig_account(snapshot.world, old, view)
    return Snapshot(snapshot.dataset.model_copy(update={"instagram": accounts}), world), view


def _ig_view_of(account_view: IgAccountView, post: IgPost) -> IgPostView:
    return next(view for view in account_view.posts if view.source is post)


def _check_new_ig_posts(snapshot: Snapshot, views: list[IgPostView]) -> None:
    keys = [key for view in views for key in dict.fromkeys(ig_post_keys(view))]
    taken = sorted({key for key in keys if key in snapshot.world.ig_posts} | set(_duplicates(keys)))
    if taken:
        raise Conflict(f"instagram post shortcode or id already exists: {', '.join(taken)}")


def _replace_ig_post(state: SimState, ref: str, edit: Callable[[IgPost], tuple[IgPost, JsonObj]]) -> JsonObj:
    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        index, account, old_view, post_index, post = _find_ig_post(snapshot, ref)
        new_post, result = edit(post)
        posts = list(account.posts)
        posts[post_index] = new_post
        new_snapshot, view = _commit_ig(snapshot, index, old_view, account.model_copy(update={"posts": posts}))
        return new_snapshot, {**result, "item": _ig_view_of(view, new_post).item}

    return state.apply(change)


def add_ig_account(state: SimState, body: Any) -> JsonObj:
    account = _validate(IgAccount, body, "instagram account")

    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        view = ig_account_view(account, snapshot.world.today)
        taken = [key for key in dict.fromkeys(ig_account_keys(view)) if key in snapshot.world.ig_accounts]
        if taken:
            raise Conflict(f"instagram username or user_id already exists: {', '.join(taken)}")
        _check_new_ig_posts(snapshot, view.posts)
        new_snapshot, _ = _commit_ig(snapshot, None, None, account)
        return new_snapshot, {"username": account.username, "user_id": account.user_id, "posts": len(view.posts)}

    return state.apply(change)


def add_ig_post(state: SimState, account_ref: str, body: Any) -> JsonObj:
    post = _validate(IgPost, body, "post")

    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        index, account, old_view = _find_ig_account(snapshot, account_ref)
        new_account = account.model_copy(update={"posts": [*account.posts, post]})
        new_snapshot, view = _commit_ig(snapshot, index, old_view, new_account)
        added = _ig_view_of(view, post)
        _check_new_ig_posts(snapshot, [added])
        return new_snapshot, {"item": added.item}

    return state.apply(change)


def remove_ig_post(state: SimState, ref: str) -> JsonObj:
    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        index, account, old_view, post_index, post = _find_ig_post(snapshot, ref)
        removed = _ig_view_of(old_view, post).item
        posts = [p for i, p in enumerate(account.posts) if i != post_index]
        new_snapshot, _ = _commit_ig(snapshot, index, old_view, account.model_copy(update={"posts": posts}))
        return new_snapshot, {"removed": removed["code"], "id": removed["id"]}

    return state.apply(change)


def add_ig_likers(state: SimState, ref: str, body: Any) -> JsonObj:
    handles = _handles(_validate(LikersBody, body, "likers"))

    def edit(post: IgPost) -> tuple[IgPost, JsonObj]:
        # One like per person: handles already listed (any case) are skipped, so re-adding is harmless.
        seen = {handle.lower() for handle in post.likers}
        new: list[str] = []
        for handle in handles:
            if handle.lower() not in seen:
                seen.add(handle.lower())
                new.append(handle)
        update: JsonObj = {"likers": [*post.likers, *new]}
        if post.like_count is not None:
            update["like_count"] = post.like_count + len(new)
        return post.model_copy(update=update), {"added": len(new), "likers": len(post.likers) + len(new)}

    return _replace_ig_post(state, ref, edit)


def add_ig_comments(state: SimState, ref: str, body: Any) -> JsonObj:
    raw = _validate(CommentsBody, body, "comments").comments

    def edit(post: IgPost) -> tuple[IgPost, JsonObj]:
        new = _comments(raw, IgComment, lambda handle: IgComment(username=handle, text="", created_at=post.taken_at))
        update: JsonObj = {"comments": [*post.comments, *new]}
        if post.comment_count is not None:
            update["comment_count"] = post.comment_count + len(new)
        return post.model_copy(update=update), {"added": len(new), "comments": len(post.comments) + len(new)}

    return _replace_ig_post(state, ref, edit)


def set_ig_counts(state: SimState, ref: str, body: Any) -> JsonObj:
    counts = _validate(IgCountsBody, body, "counts")
    update = counts.model_dump(exclude_none=True)
    if not update:
        raise InvalidChange("invalid counts: give like_count and/or comment_count")

    def edit(post: IgPost) -> tuple[IgPost, JsonObj]:
        return post.model_copy(update=update), {}

    return _replace_ig_post(state, ref, edit)


# --- TikTok ----------------------------------------------------------------------------------------------


def _find_tt_account(snapshot: Snapshot, ref: str) -> tuple[int, TtAccount, TtAccountView]:
    view = snapshot.world.find_tt_account(ref) or snapshot.world.tt_by_sec_uid.get(ref.strip())
    if view is None:
        raise NotFound(f"unknown tiktok account {ref!r} (give its uniqueId or secUid)")
    for index, account in enumerate(snapshot.dataset.tiktok):
        if account.secUid == view.sec_uid:
            return index, account, view
    raise NotFound(f"unknown tiktok account {ref!r}")  # pragma: no cover


def _find_tt_video(snapshot: Snapshot, video_id: str) -> tuple[int, TtAccount, TtAccountView, int, TtVideo]:
    view = snapshot.world.tt_videos.get(video_id.strip())
    if view is None:
        raise NotFound(f"unknown tiktok video {video_id!r} (give its id)")
    index, account, account_view = _find_tt_account(snapshot, str(view.item["author"]["secUid"]))
    for video_index, video in enumerate(account.videos):
        if video is view.source or video.id == view.item["id"]:
            return index, account, account_view, video_index, video
    raise NotFound(f"unknown tiktok video {video_id!r}")  # pragma: no cover


def _commit_tt(
    snapshot: Snapshot, index: int | None, old: TtAccountView | None, account: TtAccount
) -> tuple[Snapshot, TtAccountView]:
    accounts = list(snapshot.dataset.tiktok)
    if index is None:
        accounts.append(account)
    else:
        accounts[index] = account
    view = tt_account_view(account, snapshot.world.today, old)
    world = with_tt_account(snapshot.world, old, view)
    return Snapshot(snapshot.dataset.model_copy(update={"tiktok": accounts}), world), view


def _tt_view_of(account_view: TtAccountView, video: TtVideo) -> TtVideoView:
    return next(view for view in account_view.videos if view.source is video)


def _check_new_tt_videos(snapshot: Snapshot, ids: list[str]) -> None:
    taken = sorted({i for i in ids if i in snapshot.world.tt_videos} | set(_duplicates(ids)))
    if taken:
        raise Conflict(f"tiktok video id already exists: {', '.join(taken)}")


def _replace_tt_video(state: SimState, video_id: str, edit: Callable[[TtVideo], tuple[TtVideo, JsonObj]]) -> JsonObj:
    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        index, account, old_view, video_index, video = _find_tt_video(snapshot, video_id)
        new_video, result = edit(video)
        videos = list(account.videos)
        videos[video_index] = new_video
        new_snapshot, view = _commit_tt(snapshot, index, old_view, account.model_copy(update={"videos": videos}))
        return new_snapshot, {**result, "item": _tt_view_of(view, new_video).item}

    return state.apply(change)


def add_tt_account(state: SimState, body: Any) -> JsonObj:
    account = _validate(TtAccount, body, "tiktok account")

    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        world = snapshot.world
        taken = [
            *([account.uniqueId] if account.uniqueId.lower() in world.tt_by_unique_id else []),
            *([account.secUid] if account.secUid in world.tt_by_sec_uid else []),
        ]
        if taken:
            raise Conflict(f"tiktok uniqueId or secUid already exists: {', '.join(taken)}")
        _check_new_tt_videos(snapshot, [video.id for video in account.videos])
        new_snapshot, view = _commit_tt(snapshot, None, None, account)
        return new_snapshot, {"uniqueId": account.uniqueId, "secUid": account.secUid, "videos": len(view.videos)}

    return state.apply(change)


def add_tt_video(state: SimState, account_ref: str, body: Any) -> JsonObj:
    video = _validate(TtVideo, body, "video")

    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        index, account, old_view = _find_tt_account(snapshot, account_ref)
        _check_new_tt_videos(snapshot, [video.id])
        new_account = account.model_copy(update={"videos": [*account.videos, video]})
        new_snapshot, view = _commit_tt(snapshot, index, old_view, new_account)
        return new_snapshot, {"item": _tt_view_of(view, video).item}

    return state.apply(change)


def remove_tt_video(state: SimState, video_id: str) -> JsonObj:
    def change(snapshot: Snapshot) -> tuple[Snapshot, JsonObj]:
        index, account, old_view, video_index, video = _find_tt_video(snapshot, video_id)
        videos = [v for i, v in enumerate(account.videos) if i != video_index]
        new_snapshot, _ = _commit_tt(snapshot, index, old_view, account.model_copy(update={"videos": videos}))
        return new_snapshot, {"removed": video.id}

    return state.apply(change)


def add_tt_comments(state: SimState, video_id: str, body: Any) -> JsonObj:
    raw = _validate(CommentsBody, body, "comments").comments

    def edit(video: TtVideo) -> tuple[TtVideo, JsonObj]:
        new = _comments(
            raw, TtComment, lambda handle: TtComment(unique_id=handle, text="", create_time=video.createTime)
        )
        update: JsonObj = {"comments": [*video.comments, *new]}
        if video.stats.commentCount is not None:
            update["stats"] = video.stats.model_copy(update={"commentCount": video.stats.commentCount + len(new)})
        return video.model_copy(update=update), {"added": len(new), "comments": len(video.comments) + len(new)}

    return _replace_tt_video(state, video_id, edit)


def set_tt_stats(state: SimState, video_id: str, body: Any) -> JsonObj:
    patch = _validate(TtStatsBody, body, "stats").stats.model_dump(exclude_none=True)
    if not patch:
        raise InvalidChange("invalid stats: give at least one of diggCount, commentCount, playCount, shareCount")

    def edit(video: TtVideo) -> tuple[TtVideo, JsonObj]:
        stats: TtStats = video.stats.model_copy(update=patch)
        return video.model_copy(update={"stats": stats}), {}

    return _replace_tt_video(state, video_id, edit)
