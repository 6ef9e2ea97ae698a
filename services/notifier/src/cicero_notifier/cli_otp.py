"""``cicero-notifier otp request|verify``: ask the running notifier over the bus, print its reply.

For operators and scripts checking the claim flow end to end: the command is a caller like any other
(another process, the same request/reply), so it proves the bus path, not just the code. Prints the
reply as JSON; exit 0 when sent/verified, 1 when refused or nobody answered, 2 on bad input.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any, cast

from cicero_contracts.events.directory import USER_ID_PATTERN
from cicero_contracts.rpc import (
    OTP_CODE_PATTERN,
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
from cicero_runtime.service import Service
from pydantic import BaseModel

from cicero_notifier.email_address import is_valid_email, normalize_email
from cicero_notifier.otp_rpc import NoAnswer, call
from cicero_notifier.settings import NotifierSettings

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2


def _user_id(text: str) -> str:
    if not re.fullmatch(USER_ID_PATTERN, text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a user id (NRP/NIP: digits only)")
    return text.strip()


def _email(text: str) -> str:
    address = normalize_email(text)
    if not is_valid_email(address):
        raise argparse.ArgumentTypeError(f"{text!r} is not an e-mail address")
    return address


def _code(text: str) -> str:
    if not re.fullmatch(OTP_CODE_PATTERN, text.strip()):
        raise argparse.ArgumentTypeError("the code is the 6 digits from the e-mail")
    return text.strip()


def add_otp_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    otp = sub.add_parser("otp", help="request or verify a one-time code through the running notifier")
    actions = otp.add_subparsers(dest="otp_action", required=True)
    request = actions.add_parser("request", help="e-mail a code to a person (claim of an e-mail address)")
    verify = actions.add_parser("verify", help="check a code the person received")
    for parser in (request, verify):
        parser.add_argument("--user", dest="user_id", type=_user_id, required=True, help="NRP/NIP of the person")
        parser.add_argument("--email", type=_email, required=True,
                            help="the person's address on file (any other gets not_on_file and no mail)")
        parser.add_argument("--timeout", type=float, default=None,
                            help="seconds to wait for the notifier (default OTP_RPC_TIMEOUT_S)")
    verify.add_argument("--code", type=_code, required=True, help="the 6-digit code from the e-mail")

    async def do_request(args: argparse.Namespace) -> int:
        return await _ask(make_service(), OTP_ISSUE_QUEUE, OtpIssueRequest(user_id=args.user_id, email=args.email),
                          OtpIssueReply, OtpIssueStatus.SENT, args.timeout)

    async def do_verify(args: argparse.Namespace) -> int:
        return await _ask(make_service(), OTP_VERIFY_QUEUE,
                          OtpVerifyRequest(user_id=args.user_id, email=args.email, code=args.code),
                          OtpVerifyReply, OtpVerifyStatus.VERIFIED, args.timeout)

    request.set_defaults(handler=do_request)
    verify.set_defaults(handler=do_verify)


async def _ask(service: Service, queue: str, request: BaseModel, reply_model: type[OtpIssueReply | OtpVerifyReply],
               success: OtpIssueStatus | OtpVerifyStatus, timeout: float | None) -> int:
    """Print the reply; the exit code says whether it was ``success``, a refusal, or a request refused as bad."""
    settings = cast(NotifierSettings, service.settings)
    try:
        reply = await call(settings.amqp_url, service.names, queue, request, reply_model,
                           timeout or settings.otp_rpc_timeout_s)
    except NoAnswer as exc:
        print(f"otp: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(reply.model_dump_json())
    if isinstance(reply, RpcError):
        print(f"otp: the notifier refused the request: {reply.detail}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK if reply.status == success else EXIT_REFUSED
