"""Pending codes, recent-issue markers and verified claims in Redis, under ``settings.redis_prefix``.

Keys per person (values are keyed hashes, never a code or an address):

* ``otp:code:<user>``   hash ``digest`` + ``wrong``, TTL = the code's life (5 minutes);
* ``otp:issued:<user>`` a marker that a code was issued lately, so a timed-out code reads ``expired``
  rather than ``unknown``;
* ``otp:claim:<user>``  the claim digest of a verified (user, address), TTL = the claim's life.

A verification attempt is read, judged (``otp_codes.judge_attempt``) and written back in one optimistic
transaction (WATCH/MULTI), so two attempts at once cannot both count as the same try.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from redis import RedisError, WatchError
from redis.asyncio import Redis

from cicero_notifier.otp_codes import PendingCode, Verdict

ISSUED_MARKER_TTL_S = 24 * 3600
"""How long "a code was issued" is remembered, to answer ``expired`` instead of ``unknown``."""


class OtpStoreUnavailable(Exception):
    """Redis could not be reached or answered with an error; the caller refuses with ``unavailable``."""


@contextlib.contextmanager
def _unavailable_on_redis_errors() -> Iterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise OtpStoreUnavailable(f"redis: {type(exc).__name__}") from exc


Judge = Callable[[PendingCode | None, bool], Verdict]


class OtpStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str, timeout_s: float = 3.0) -> OtpStore:
        return cls(Redis.from_url(url, decode_responses=True, socket_connect_timeout=timeout_s,
                                  socket_timeout=timeout_s), prefix)

    async def close(self) -> None:
        await self._redis.aclose()

    def _key(self, kind: str, user_id: str) -> str:
        """``<prefix>otp:<kind>:<user>``: ``code``, ``issued``, ``claim`` or ``requests``."""
        return f"{self._prefix}otp:{kind}:{user_id}"

    async def count_request(self, user_id: str, window_s: int) -> int:
        """Count one more code request in the person's current window (which starts at its first request)."""
        key = self._key("requests", user_id)
        with _unavailable_on_redis_errors():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window_s, nx=True)
                count, _ = await pipe.execute()
        return int(count)

    async def put_code(self, user_id: str, digest: str, ttl_s: int) -> None:
        """Replace whatever code the person had (a new request starts over with no wrong tries)."""
        key = self._key("code", user_id)
        with _unavailable_on_redis_errors():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping={"digest": digest, "wrong": 0})
                pipe.expire(key, ttl_s)
                pipe.set(self._key("issued", user_id), "1", ex=max(ttl_s, ISSUED_MARKER_TTL_S))
                await pipe.execute()

    async def drop_code(self, user_id: str, digest: str) -> None:
        """Withdraw a code whose e-mail never went out, unless a newer request replaced it meanwhile."""
        key = self._key("code", user_id)
        with _unavailable_on_redis_errors(), contextlib.suppress(WatchError):  # replaced concurrently: it stays
            async with self._redis.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                if await pipe.hget(key, "digest") != digest:
                    await pipe.unwatch()  # type: ignore[no-untyped-call]
                    return
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.delete(key, self._key("issued", user_id))
                await pipe.execute()

    async def attempt(self, user_id: str, judge: Judge, claim_value: str, claim_ttl_s: int) -> Verdict:
        """Judge one attempt against the pending code and record its effect atomically."""
        code_key, issued_key = self._key("code", user_id), self._key("issued", user_id)
        with _unavailable_on_redis_errors():
            async with self._redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(code_key, issued_key)
                        fields = await pipe.hgetall(code_key)
                        ttl_ms = await pipe.pttl(code_key)
                        issued = bool(await pipe.exists(issued_key))
                        pending = (PendingCode(str(fields["digest"]), int(fields.get("wrong", 0)))
                                   if "digest" in fields and ttl_ms > 0 else None)
                        verdict = judge(pending, issued)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        if verdict.consumes_code:
                            pipe.delete(code_key, issued_key)
                            pipe.set(self._key("claim", user_id), claim_value, ex=claim_ttl_s)
                        elif verdict.wrong_after is not None:
                            # HSET keeps the TTL; PEXPIRE restates it in case the key expired after the read
                            pipe.hset(code_key, "wrong", verdict.wrong_after)
                            pipe.pexpire(code_key, ttl_ms)
                        await pipe.execute()
                        return verdict
                    except WatchError:
                        continue  # another attempt changed the code between our read and write: judge again

    async def claim(self, user_id: str) -> str | None:
        """The claim digest of the person's verified claim, while it is valid."""
        with _unavailable_on_redis_errors():
            value = await self._redis.get(self._key("claim", user_id))
        return None if value is None else str(value)
