"""OTP for the data-claim flow (DOMAIN §5) with real Redis, PostgreSQL, RabbitMQ and an SMTP sink: the code
arrives by e-mail, is stored only as a keyed hash, allows three wrong tries, expires, and never leaks."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from cicero_contracts.rpc import (
    OTP_ISSUE_QUEUE,
    OTP_VERIFY_QUEUE,
    OtpIssueReply,
    OtpIssueRequest,
    OtpIssueStatus,
    OtpVerifyReply,
    OtpVerifyRequest,
    OtpVerifyStatus,
    RpcError,
)
from cicero_contracts.schema_files import load_example
from cicero_notifier.mailer import Mailer
from cicero_notifier.main import build, main
from cicero_notifier.otp_rpc import NoAnswer, call, read_reply
from cicero_notifier.otp_service import OtpService
from cicero_notifier.otp_store import OtpStore
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.consumer import Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes
from cicero_runtime.testing.fixtures import SQL_DIR, service_settings, started_service
from cicero_runtime.testing.processes import bin_path, free_port
from cicero_runtime.testing.smtp_sink import ReceivedMail, SmtpSink, smtp_sink
from cicero_runtime.topology import BusNames
from faststream.rabbit import RabbitBroker
from pydantic import SecretStr
from redis.asyncio import Redis

NOW = datetime(2026, 3, 10, 8, 12, tzinfo=UTC)
BUDI, ANDI, GONE, NOMAIL = "87020123", "87020124", "87020125", "87020126"
BUDI_MAIL = "budi@example.org"  # on file for Budi
CODE_LINE = re.compile(r"^ {4}([0-9]{6})$", re.MULTILINE)


@dataclass
class World:
    service: Service
    settings: NotifierSettings
    sink: SmtpSink
    redis: Redis
    prefix: str
    stores: list[OtpStore]

    def otp(self, **overrides: Any) -> OtpService:
        """The OTP use cases as production wires them, on a clock that stands still; ``overrides`` change settings."""
        settings = self.settings.model_copy(update=overrides)
        store = OtpStore.from_url(settings.redis_url, settings.redis_prefix, timeout_s=1.0)
        self.stores.append(store)
        return OtpService(settings, lambda: self.service.pool, store, Mailer(settings), self.service.store,
                          clock=lambda: NOW)

    def codes(self) -> list[str]:
        return [code_in(mail) for mail in self.sink.received]

    async def redis_dump(self) -> dict[str, Any]:
        dump: dict[str, Any] = {}
        async for key in self.redis.scan_iter(match=f"{self.prefix}*"):
            kind = await self.redis.type(key)
            dump[key] = await (self.redis.hgetall(key) if kind == "hash" else self.redis.get(key))
        return dump

    async def events(self) -> list[dict[str, Any]]:
        async with self.service.pool.acquire() as conn:
            recorded = await self.service.store.read_after(conn, 0, 1000)
        for event in recorded:
            assert_matches_contract(event)
        return [{"type": e.event_type, "stream": e.stream_id, "payload": e.payload} for e in recorded]


def code_in(mail: ReceivedMail) -> str:
    found = CODE_LINE.findall(mail.text)
    assert len(found) == 1, mail.text
    return str(found[0])


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def register_people(service: Service) -> None:
    consumer = service.make_consumer("notifier")
    example = load_example("PersonnelRegistered")
    for user_id, email, active in ((BUDI, BUDI_MAIL, True), (ANDI, "Andi.Wijaya@Example.org", True),
                                   (GONE, "gone@example.org", False), (NOMAIL, None, True)):
        payload = example | {"user_id": user_id, "email": email, "active": active}
        assert await consumer.process(envelope_bytes("PersonnelRegistered", payload)) == Outcome.HANDLED


@pytest_asyncio.fixture
async def world(database_url: str, amqp_url: str, redis_url: str, namespace: str, bus_names: BusNames,
                notifier_schema: str) -> AsyncIterator[World]:
    prefix = f"cicero-test:{uuid.uuid4().hex[:10]}:"
    redis = Redis.from_url(redis_url, decode_responses=True)
    async with smtp_sink() as sink:
        settings = service_settings(
            NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url, redis_url=redis_url,
            redis_prefix=prefix, smtp_host=sink.host, smtp_port=sink.port, smtp_retry_base_s=0.01,
            otp_secret=SecretStr("uji-rahasia-otp"), health_port=0, otp_rpc_timeout_s=10,
        )
        async with started_service(build(settings)) as service:
            await register_people(service)
            w = World(service, settings, sink, redis, prefix, [])
            try:
                yield w
            finally:
                for store in w.stores:
                    await store.close()
    async for key in redis.scan_iter(match=f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()


@pytest.fixture
def sequential_codes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Codes 111111, 222222, …: a test that needs two different codes cannot be unlucky."""
    issued: list[str] = []
    counter = itertools.count(1)

    def fake() -> str:
        issued.append(str(next(counter)) * 6)
        return issued[-1]

    monkeypatch.setattr("cicero_notifier.otp_service.generate_code", fake)
    yield issued


async def test_the_code_arrives_by_email_verifies_once_and_leaves_a_claim(world: World) -> None:
    otp = world.otp()
    reply = await otp.issue(OtpIssueRequest(user_id=BUDI, email=" Budi@Example.ORG "))
    assert reply == OtpIssueReply(status=OtpIssueStatus.SENT, expires_at=NOW + timedelta(minutes=5))
    (mail,) = world.sink.received
    assert mail.rcpt_tos == (BUDI_MAIL,)
    assert mail.message["Subject"] == "Kode Verifikasi Cicero"
    assert mail.text.startswith("Yth. Bapak/Ibu AKP Budi Santoso,\n")
    code = code_in(mail)

    stored = await world.redis_dump()
    assert set(stored) == {f"{world.prefix}otp:code:{BUDI}", f"{world.prefix}otp:issued:{BUDI}",
                           f"{world.prefix}otp:requests:{BUDI}"}  # the hash, its marker, the request count
    assert stored[f"{world.prefix}otp:code:{BUDI}"]["wrong"] == "0"
    assert code not in json.dumps(stored)  # only the keyed hash
    ttl = await world.redis.ttl(f"{world.prefix}otp:code:{BUDI}")
    assert 290 <= ttl <= 300

    verified = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL.upper(), code=code))
    assert verified == OtpVerifyReply(status=OtpVerifyStatus.VERIFIED, claim_valid_until=NOW + timedelta(minutes=10))
    assert await otp.has_claim(BUDI, BUDI_MAIL)
    assert not await otp.has_claim(BUDI, "budi.lain@example.org")
    assert 590 <= await world.redis.ttl(f"{world.prefix}otp:claim:{BUDI}") <= 600
    # used up: the same code again finds nothing pending
    again = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=code))
    assert again.status == OtpVerifyStatus.UNKNOWN


async def test_three_wrong_codes_burn_it_even_for_the_right_one(world: World) -> None:
    otp = world.otp()
    assert (await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))).status == OtpIssueStatus.SENT
    (code,) = world.codes()
    replies = [await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=other_code(code)))
               for _ in range(3)]
    assert [(r.status, r.attempts_left) for r in replies] == [
        (OtpVerifyStatus.WRONG_CODE, 2), (OtpVerifyStatus.WRONG_CODE, 1), (OtpVerifyStatus.WRONG_CODE, 0)]
    burnt = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=code))
    assert (burnt.status, burnt.attempts_left, burnt.claim_valid_until) == (
        OtpVerifyStatus.TOO_MANY_ATTEMPTS, 0, None)
    assert not await otp.has_claim(BUDI, BUDI_MAIL)


async def test_the_right_code_with_another_address_is_a_wrong_try(world: World) -> None:
    otp = world.otp()
    await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))
    (code,) = world.codes()
    other = await otp.verify(OtpVerifyRequest(user_id=BUDI, email="budi.lain@example.org", code=code))
    assert (other.status, other.attempts_left) == (OtpVerifyStatus.WRONG_CODE, 2)
    assert (await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=code))).status == \
        OtpVerifyStatus.VERIFIED


async def test_concurrent_wrong_tries_are_each_counted(world: World) -> None:
    otp = world.otp()
    await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))
    (code,) = world.codes()
    wrong = OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=other_code(code))
    replies = await asyncio.gather(*(otp.verify(wrong) for _ in range(5)))
    assert sorted((r.status.value, r.attempts_left) for r in replies) == [
        ("too_many_attempts", 0), ("too_many_attempts", 0), ("wrong_code", 0), ("wrong_code", 1),
        ("wrong_code", 2)]


async def test_a_new_request_replaces_the_previous_code(world: World, sequential_codes: list[str]) -> None:
    otp = world.otp()
    await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))
    first = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code="999999"))
    assert first.attempts_left == 2
    await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))
    assert world.codes() == sequential_codes == ["111111", "222222"]
    old = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code="111111"))
    assert (old.status, old.attempts_left) == (OtpVerifyStatus.WRONG_CODE, 2)  # the count started over
    new = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code="222222"))
    assert new.status == OtpVerifyStatus.VERIFIED


async def test_requests_beyond_the_hourly_limit_are_refused_and_send_nothing(world: World) -> None:
    """Each code brings fresh tries, so unlimited requests would make guessing possible."""
    otp = world.otp(otp_max_requests=2)
    statuses = [(await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))).status for _ in range(3)]
    assert statuses == [OtpIssueStatus.SENT, OtpIssueStatus.SENT, OtpIssueStatus.TOO_MANY_REQUESTS]
    assert len(world.sink.received) == 2
    assert 0 < await world.redis.ttl(f"{world.prefix}otp:requests:{BUDI}") <= 3600  # the window ends
    other = await otp.issue(OtpIssueRequest(user_id=ANDI, email="andi.wijaya@example.org"))
    assert other.status == OtpIssueStatus.SENT  # counted per person


async def test_an_expired_code_is_refused(world: World) -> None:
    otp = world.otp()
    await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))
    (code,) = world.codes()
    key = f"{world.prefix}otp:code:{BUDI}"
    assert await world.redis.pexpire(key, 1)

    async def gone() -> bool:
        return not await world.redis.exists(key)

    await wait_for(gone, timeout=5, what="the code's key to expire")
    reply = await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=code))
    assert reply == OtpVerifyReply(status=OtpVerifyStatus.EXPIRED)
    assert not await otp.has_claim(BUDI, BUDI_MAIL)


async def test_a_person_who_never_asked_is_unknown(world: World) -> None:
    reply = await world.otp().verify(OtpVerifyRequest(user_id=ANDI, email="andi.wijaya@example.org", code="123456"))
    assert reply == OtpVerifyReply(status=OtpVerifyStatus.UNKNOWN)


async def test_a_code_goes_only_to_the_address_on_file_and_every_other_gets_one_neutral_answer(
        world: World) -> None:
    """Anyone could claim anyone by giving an unused address of their own; and ``email_in_use`` told a requester
    whose an address was. Now one answer for every address that is not the person's on file."""
    otp = world.otp()
    neutral = OtpIssueReply(status=OtpIssueStatus.NOT_ON_FILE)
    for user_id, email in [
        (BUDI, "budi.baru@example.org"),  # nobody's address: used to get a code, so Budi could be claimed by anyone
        (BUDI, "ANDI.wijaya@example.org"),  # Andi's address, any case: used to answer email_in_use
        (NOMAIL, "nomail@example.org"),  # no address on file: nothing can be proved
        (NOMAIL, "andi.wijaya@example.org"),
        ("99999999", "baru@example.org"),  # unknown user id
        (GONE, "gone@example.org"),  # inactive, even with the address on file
    ]:
        reply = await otp.issue(OtpIssueRequest(user_id=user_id, email=email))
        assert reply == neutral, (user_id, email)
        assert reply.model_dump_json() == neutral.model_dump_json()  # the requester sees exactly the same bytes
    for email in ("budi@example", "budi baru@example.org"):
        assert await otp.issue(OtpIssueRequest(user_id=BUDI, email=email)) == OtpIssueReply(
            status=OtpIssueStatus.INVALID_EMAIL)
    assert world.sink.received == []
    assert [k for k in await world.redis_dump() if ":otp:code:" in k or ":otp:issued:" in k] == []


async def test_guessing_the_address_on_file_counts_towards_the_hourly_limit(world: World) -> None:
    otp = world.otp(otp_max_requests=2)
    for guess in ("budi1@example.org", "budi2@example.org"):
        assert (await otp.issue(OtpIssueRequest(user_id=BUDI, email=guess))).status == OtpIssueStatus.NOT_ON_FILE
    right = await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))
    assert right.status == OtpIssueStatus.TOO_MANY_REQUESTS
    assert world.sink.received == []


async def test_the_persons_own_address_on_file_can_be_claimed(world: World) -> None:
    reply = await world.otp().issue(OtpIssueRequest(user_id=ANDI, email="andi.wijaya@example.org"))
    assert reply.status == OtpIssueStatus.SENT


async def test_without_an_otp_secret_codes_are_refused_with_a_clear_log(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    otp = world.otp(otp_secret=SecretStr(""))
    with caplog.at_level(logging.ERROR, logger="cicero_notifier"):
        assert await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL)) == OtpIssueReply(
            status=OtpIssueStatus.UNAVAILABLE)
        assert await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code="123456")) == OtpVerifyReply(
            status=OtpVerifyStatus.UNAVAILABLE)
    assert any("OTP_SECRET is not configured" in r.getMessage() for r in caplog.records)
    assert world.sink.received == []


async def test_redis_down_is_unavailable(world: World) -> None:
    otp = world.otp(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL)) == OtpIssueReply(
        status=OtpIssueStatus.UNAVAILABLE)
    assert await otp.verify(OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code="123456")) == OtpVerifyReply(
        status=OtpVerifyStatus.UNAVAILABLE)
    assert world.sink.received == []  # no code is mailed that could not be checked


async def test_a_refused_address_withdraws_the_code(world: World) -> None:
    world.sink.script.refused_recipients[BUDI_MAIL] = "550 5.1.1 mailbox tidak ada"
    otp = world.otp()
    assert await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL)) == OtpIssueReply(
        status=OtpIssueStatus.SEND_FAILED)
    assert world.sink.handler.rcpt_commands == 1  # not retried
    assert await world.redis_dump() == {f"{world.prefix}otp:requests:{BUDI}": "1"}  # only the count
    assert await world.events() == []  # an address refused is the requester's problem, not the admins'


async def test_a_failing_server_is_retried_then_reported(world: World) -> None:
    world.sink.script.data_replies.extend(["451 4.3.0 coba lagi"] * 2)  # both OTP attempts
    otp = world.otp()
    assert await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL)) == OtpIssueReply(
        status=OtpIssueStatus.SEND_FAILED)
    assert world.sink.handler.data_commands == 2
    (alert,) = await world.events()
    assert (alert["type"], alert["stream"]) == ("OperationalAlertRaised", "email:otp")
    assert alert["payload"]["severity"] == "error" and BUDI in alert["payload"]["summary"]
    assert alert["payload"]["details"] == ["451 4.3.0 coba lagi"]
    assert await world.redis_dump() == {f"{world.prefix}otp:requests:{BUDI}": "1"}  # only the count
    # the server recovers: the next request goes out after one retry
    world.sink.script.data_replies.append("451 4.3.0 sekali lagi")
    assert (await otp.issue(OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL))).status == OtpIssueStatus.SENT
    assert len(world.sink.received) == 1


async def start_responders(settings: NotifierSettings) -> Service:
    """The notifier as ``run`` starts it, minus the relay, health server and loops: consumers and responders."""
    service = build(settings)
    await service.start(with_relay=False, with_health=False, with_background=False)
    return service


async def test_round_trip_over_the_bus_and_the_code_never_leaks(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for library in ("aiormq", "aio_pika"):  # their frame dumps: silenced in every service (configure_logging)
        caplog.set_level(logging.WARNING, logger=library)
    running = await start_responders(world.settings)
    try:
        names, url = running.names, world.settings.amqp_url
        issued = await call(url, names, OTP_ISSUE_QUEUE, OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL),
                            OtpIssueReply, 10)
        assert isinstance(issued, OtpIssueReply) and issued.status == OtpIssueStatus.SENT
        assert issued.expires_at is not None
        assert timedelta(minutes=4) < issued.expires_at - datetime.now(UTC) <= timedelta(minutes=5)
        (code,) = world.codes()
        wrong = await call(url, names, OTP_VERIFY_QUEUE,
                           OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=other_code(code)), OtpVerifyReply, 10)
        assert wrong == OtpVerifyReply(status=OtpVerifyStatus.WRONG_CODE, attempts_left=2)
        right = await call(url, names, OTP_VERIFY_QUEUE, OtpVerifyRequest(user_id=BUDI, email=BUDI_MAIL, code=code),
                           OtpVerifyReply, 10)
        assert isinstance(right, OtpVerifyReply) and right.status == OtpVerifyStatus.VERIFIED
        # a request the contract refuses is answered, naming the field but not its value
        bad = await raw_request(url, names.name(OTP_VERIFY_QUEUE),
                                json.dumps({"user_id": BUDI, "email": BUDI_MAIL, "code": "98765x"}).encode())
        assert bad == RpcError(detail="code: String should match pattern '^[0-9]{6}$'")
        garbage = await raw_request(url, names.name(OTP_VERIFY_QUEUE), b"not json")
        assert garbage == RpcError(detail="the request is not a JSON OtpVerifyRequest")
    finally:
        await running.stop()
    # the code was never logged (the sink's own protocol log, ``mail.log``, is the outside world) …
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours, "nothing was captured: the assertion below would prove nothing"
    for record in ours:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        assert code not in text and "98765x" not in text, record
    # … nor appended to the notifier's event store, nor kept in Redis
    assert code not in json.dumps(await world.events())
    assert code not in json.dumps(await world.redis_dump())


async def raw_request(amqp_url: str, queue: str, body: bytes) -> OtpVerifyReply | RpcError:
    """Send what a careless caller might: bytes the contract refuses."""
    broker = RabbitBroker(amqp_url, logger=None)
    await broker.connect()
    try:
        reply = await broker.request(body, queue=queue, timeout=10)
    finally:
        await broker.stop()
    return read_reply(OtpVerifyReply, reply.body)


async def test_nobody_answering_is_reported_at_once(world: World) -> None:
    with pytest.raises(NoAnswer, match="is cicero-notifier running"):
        await call(world.settings.amqp_url, world.service.names, OTP_ISSUE_QUEUE,
                   OtpIssueRequest(user_id=BUDI, email=BUDI_MAIL), OtpIssueReply, 10)


def cli_env(world: World) -> dict[str, str]:
    s = world.settings
    return {"DATABASE_URL": s.database_url, "AMQP_URL": s.amqp_url, "REDIS_URL": s.redis_url,
            "CICERO_NAMESPACE": s.namespace, "CICERO_DB_SCHEMA": s.db_schema, "CICERO_SQL_DIR": str(SQL_DIR),
            "OTEL_EXPORTER_OTLP_ENDPOINT": "", "LOG_FORMAT": "text", "OTP_RPC_TIMEOUT_S": "10"}


async def run_cli(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        bin_path("cicero-notifier"), *argv, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_cli_is_another_process_on_the_same_bus(world: World) -> None:
    running = await start_responders(world.settings)
    env = cli_env(world)
    try:
        code, out, err = await run_cli(env, "otp", "request", "--user", BUDI, "--email", BUDI_MAIL)
        assert code == 0, err
        assert json.loads(out)["status"] == "sent"
        (otp_code,) = world.codes()
        code, out, err = await run_cli(env, "otp", "verify", "--user", BUDI, "--email", BUDI_MAIL, "--code", otp_code)
        assert code == 0, err
        assert json.loads(out)["status"] == "verified"
        assert otp_code not in err  # the CLI's own logs
    finally:
        await running.stop()


@pytest.fixture
def in_process_cli(world: World, monkeypatch: pytest.MonkeyPatch, restore_logging: None
                   ) -> Callable[..., Awaitable[int]]:
    """``cicero-notifier ARGS…`` in a thread with its own event loop (cheaper than a process, same code path)."""
    for name, value in cli_env(world).items():
        monkeypatch.setenv(name, value)

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    return run


async def test_the_cli_exits_1_when_refused(world: World, in_process_cli: Callable[..., Awaitable[int]],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    running = await start_responders(world.settings)
    try:
        assert await in_process_cli("otp", "verify", "--user", BUDI, "--email", BUDI_MAIL, "--code", "123456") == 1
        assert json.loads(capsys.readouterr().out) == {"status": "unknown", "attempts_left": None,
                                                       "claim_valid_until": None}
        assert await in_process_cli("otp", "request", "--user", BUDI, "--email", "andi.wijaya@example.org") == 1
        assert json.loads(capsys.readouterr().out) == {"status": "not_on_file", "expires_at": None}
    finally:
        await running.stop()


async def test_the_cli_without_a_running_notifier_exits_1(
        in_process_cli: Callable[..., Awaitable[int]], capsys: pytest.CaptureFixture[str]) -> None:
    assert await in_process_cli("otp", "request", "--user", BUDI, "--email", BUDI_MAIL) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nobody answers notifier.rpc.otp-issue (is cicero-notifier running?)" in captured.err


@pytest.mark.parametrize(("argv", "message"), [
    (("otp", "request", "--user", "12ab", "--email", BUDI_MAIL), "'12ab' is not a user id"),
    (("otp", "request", "--user", BUDI, "--email", "budi@"), "'budi@' is not an e-mail address"),
    (("otp", "verify", "--user", BUDI, "--email", BUDI_MAIL, "--code", "12345"), "the 6 digits from the e-mail"),
    (("otp", "verify", "--user", BUDI, "--email", BUDI_MAIL), "the following arguments are required: --code"),
])
def test_the_cli_refuses_bad_input_with_exit_2(argv: tuple[str, ...], message: str,
                                               capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
