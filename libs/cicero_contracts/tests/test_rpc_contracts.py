"""The request/reply models, their committed schemas and examples agree; bad requests name the field."""

from __future__ import annotations

import jsonschema
import pytest
from cicero_contracts.rpc import (
    RPC_MODELS,
    OtpIssueReply,
    OtpIssueRequest,
    OtpIssueStatus,
    OtpVerifyReply,
    OtpVerifyRequest,
    OtpVerifyStatus,
)
from cicero_contracts.schema_files import load_example, load_schema, stale_files
from pydantic import ValidationError


def test_rpc_schemas_are_committed() -> None:
    assert not [name for name in stale_files() if name.split(".")[0] in {m.__name__ for m in RPC_MODELS}]


@pytest.mark.parametrize("model", RPC_MODELS, ids=lambda m: m.__name__)
def test_example_matches_schema_and_model(model: type) -> None:
    example = load_example(model.__name__, model.schema_version)  # type: ignore[attr-defined]
    schema = load_schema(model.__name__, model.schema_version)  # type: ignore[attr-defined]
    jsonschema.validate(example, schema)
    parsed = model.model_validate(example)  # type: ignore[attr-defined]
    jsonschema.validate(parsed.model_dump(mode="json"), schema)


def test_verify_reply_round_trips_as_json() -> None:
    reply = OtpVerifyReply.model_validate_json(
        '{"status": "wrong_code", "attempts_left": 2, "claim_valid_until": null}')
    assert (reply.status, reply.attempts_left) == (OtpVerifyStatus.WRONG_CODE, 2)


@pytest.mark.parametrize(("payload", "field"), [
    ({"user_id": "12ab", "email": "a@b.id"}, "user_id"),
    ({"user_id": "1", "email": ""}, "email"),
    ({"user_id": "1", "email": "x" * 255}, "email"),
    ({"email": "a@b.id"}, "user_id"),
])
def test_a_bad_issue_request_names_the_field(payload: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OtpIssueRequest.model_validate(payload)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", " 123456"])
def test_a_verify_request_takes_six_digits_only(code: str) -> None:
    with pytest.raises(ValidationError, match="code"):
        OtpVerifyRequest(user_id="1", email="a@b.id", code=code)


@pytest.mark.parametrize("status", ["sent", "email_in_use", "unknown_user", "invalid_email"])
def test_an_issue_reply_of_the_previous_version_still_reads(status: str) -> None:
    """Version 2 replaced ``email_in_use``/``unknown_user`` by ``not_on_file``; a reply from a notifier still on
    version 1 (valid under its committed schema) must still read."""
    old = {"status": status, "expires_at": None}
    jsonschema.validate(old, load_schema("OtpIssueReply", 1))
    assert OtpIssueReply.model_validate(old).status == OtpIssueStatus(status)
    jsonschema.validate(load_example("OtpIssueReply", 1), load_schema("OtpIssueReply", 1))


def test_the_neutral_refusal_is_in_version_2_only() -> None:
    assert OtpIssueReply.schema_version == 2
    jsonschema.validate({"status": "not_on_file"}, load_schema("OtpIssueReply", 2))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status": "not_on_file"}, load_schema("OtpIssueReply", 1))
