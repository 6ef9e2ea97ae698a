"""Normalisation of handles, phone numbers and WhatsApp group ids (DOMAIN §1): pure functions."""

from __future__ import annotations

import re

import pytest
from cicero_runtime.identifiers import (
    InvalidIdentifier,
    normalize_group_id,
    normalize_handle,
    normalize_phone,
    normalize_username,
    personal_chat_id,
)


@pytest.mark.parametrize(("platform", "raw", "expected"), [
    ("instagram", "polres_demo", "polres_demo"),
    ("instagram", "  Polres_Demo  ", "polres_demo"),
    ("instagram", "@polres_demo", "polres_demo"),
    ("instagram", "@Polres.Demo", "polres.demo"),
    ("instagram", "https://www.instagram.com/polres_demo/", "polres_demo"),
    ("instagram", "https://www.instagram.com/polres_demo", "polres_demo"),
    ("instagram", "http://instagram.com/polres_demo/", "polres_demo"),
    ("instagram", "www.instagram.com/polres_demo", "polres_demo"),
    ("instagram", "instagram.com/polres_demo/", "polres_demo"),
    ("instagram", "instagram.com/Polres_Demo", "polres_demo"),
    ("instagram", "https://www.instagram.com/polres_demo/?igsh=MWZ6b2x3&utm_source=qr", "polres_demo"),
    ("instagram", "https://www.instagram.com/polres_demo?hl=id", "polres_demo"),
    ("instagram", "https://www.instagram.com/u/polres_demo/", "polres_demo"),
    ("instagram", "instagram.com/u/polres_demo", "polres_demo"),
    ("instagram", "HTTPS://WWW.INSTAGRAM.COM/POLRES_DEMO/", "polres_demo"),
    ("instagram", "a", "a"),
    ("instagram", "a" * 30, "a" * 30),
    ("instagram", "polres.demo_2024", "polres.demo_2024"),
    ("tiktok", "polres_demo_tt", "polres_demo_tt"),
    ("tiktok", "@Polres_Demo_TT", "polres_demo_tt"),
    ("tiktok", "https://www.tiktok.com/@polres_demo_tt", "polres_demo_tt"),
    ("tiktok", "https://www.tiktok.com/@polres_contoh_tt?lang=id", "polres_contoh_tt"),
    ("tiktok", "tiktok.com/@Polres_Demo_TT/", "polres_demo_tt"),
    ("tiktok", "www.tiktok.com/@polres_demo_tt?is_from_webapp=1&sender_device=pc", "polres_demo_tt"),
    ("tiktok", "a" * 24, "a" * 24),
])
def test_handles_are_normalised(platform: str, raw: str, expected: str) -> None:
    assert normalize_handle(platform, raw) == expected


@pytest.mark.parametrize(("platform", "raw"), [
    ("instagram", ""),
    ("instagram", "   "),
    ("instagram", "@"),
    ("instagram", "a" * 31),  # Instagram allows 30
    ("instagram", "@" + "a" * 31),
    ("instagram", "polres demo"),
    ("instagram", "polres-demo"),
    ("instagram", "polres!"),
    ("instagram", "polrés"),
    ("instagram", "polres#demo"),
    ("instagram", "https://www.instagram.com/"),
    ("instagram", "https://www.instagram.com/p/C4abcDEFghi/"),  # a post, not a profile
    ("instagram", "https://www.instagram.com/reel/C4abcDEFghi/"),
    ("instagram", "https://www.instagram.com/stories/polres_demo/123/"),
    ("instagram", "https://www.instagram.com/explore/tags/polri/"),
    ("instagram", "https://www.instagram.com/" + "a" * 31),
    ("tiktok", "a" * 25),  # TikTok allows 24
    ("tiktok", "https://www.tiktok.com/@" + "a" * 25),
    ("tiktok", "polres-demo"),
    ("tiktok", "polres demo"),
    ("tiktok", "https://www.tiktok.com/"),
])
def test_invalid_handles_are_refused(platform: str, raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_handle(platform, raw)


def test_invalid_identifier_is_a_value_error_naming_the_input() -> None:
    with pytest.raises(ValueError, match="polres-demo"):
        normalize_handle("instagram", "polres-demo")


@pytest.mark.parametrize("raw", ["httpolres", "https_polres", "www.polres"])
def test_handles_that_begin_like_a_url_are_still_handles(raw: str) -> None:
    assert normalize_handle("instagram", raw) == raw


@pytest.mark.parametrize(("platform", "raw"), [
    ("instagram", "https://www.tiktok.com/@polres_demo_tt"),
    ("instagram", "https://www.facebook.com/polres_demo"),
    ("tiktok", "https://www.instagram.com/polres_demo/"),
    ("tiktok", "https://vm.tiktok.com/ZMabc123/"),  # a short link: the last segment is no username
])
def test_links_to_another_site_are_refused(platform: str, raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_handle(platform, raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("  @SomeOne ", "someone"),
    ("someone", "someone"),
    ("Some.One_", "some.one_"),
])
def test_engagement_usernames_are_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("081234567890", "6281234567890"),
    ("0812-3456-7890", "6281234567890"),
    ("0812 3456 7890", "6281234567890"),
    ("81234567890", "6281234567890"),  # 8… without the trunk 0
    ("6281234567890", "6281234567890"),  # 62… without the +
    ("+6281234567890", "6281234567890"),
    ("+62 812-3456-7890", "6281234567890"),
    ("+62 (812) 3456 7890", "6281234567890"),
    ("(+62) 812.3456.7890", "6281234567890"),
    (" 0812 3456 7890 ", "6281234567890"),
    ("\t+62 812 3456 7890\n", "6281234567890"),
    ("0812-3456-789", "628123456789"),  # 10-digit mobile after the trunk 0
    ("0811 123 456", "62811123456"),  # the shortest mobile numbers
    ("085712345678", "6285712345678"),
    ("0895 1234 5678", "6289512345678"),  # 13 digits with the trunk 0
    ("628123456789", "628123456789"),
    ("0215551234", "62215551234"),  # a Jakarta landline keeps its area code
    ("(021) 555-1234", "62215551234"),
    ("0274 512345", "62274512345"),  # Yogyakarta
])
def test_indonesian_phone_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890",
                                 "81234567890", "(+62) 812.3456.7890"])
def test_every_spelling_of_one_number_is_the_same_number(raw: str) -> None:
    assert normalize_phone(raw) == normalize_phone("081234567890")


@pytest.mark.parametrize(("raw", "reason"), [
    ("+81 90 1234 5678", "is a +81 number, not an Indonesian one"),  # used to become 62819012345678
    ("+1 415 555 2671", "is a +1 number"),
    ("+44 7911 123456", "is a +44 number"),
    ("+60 12-345 6789", "is a +60 number"),  # Malaysia, a neighbour
])
def test_foreign_numbers_are_refused_naming_their_country_code(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=re.escape(reason)):
        normalize_phone(raw)


@pytest.mark.parametrize(("raw", "reason"), [
    ("812345", "not a valid Indonesian phone number"),  # used to be accepted as 62812345
    ("0812", r"not a valid Indonesian phone number \(too short\)"),
    ("08123", "not a valid Indonesian phone number"),
    ("0811123", "not a valid Indonesian phone number"),
    ("+62", "not a phone number"),
    ("12345678", "not a valid Indonesian phone number"),  # eight digits used to be enough
    ("+62 812", "not a valid Indonesian phone number"),
    ("0812345678901234", "more than 15 digits"),
])
def test_short_or_unknown_numbers_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", ["", "   ", "abc", "n/a", "-", "0812-CALL-ME", "0812 3456 7890 ext 1",
                                 "+62#812345678", "6281234567890@c.us"])
def test_what_is_not_a_number_at_all_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="not a phone number"):
        normalize_phone(raw)


def test_two_numbers_typed_without_a_separator_are_named_as_such() -> None:
    with pytest.raises(InvalidIdentifier, match=r"not one phone number .*separate several numbers with ';'"):
        normalize_phone("081234567890 081298765432")


@pytest.mark.parametrize(("raw", "expected"), [
    ("081234567890", "6281234567890@c.us"),
    ("6281234567890@c.us", "6281234567890@c.us"),
    ("6281234567890@s.whatsapp.net", "6281234567890@c.us"),
    ("+62 812-3456-7890", "6281234567890@c.us"),
    (" 6281234567890@C.US ", "6281234567890@c.us"),
])
def test_personal_chat_ids(raw: str, expected: str) -> None:
    assert personal_chat_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("120363025550001111@g.us", "120363025550001111@g.us"),
    ("  120363025550001111@g.us ", "120363025550001111@g.us"),
    ("120363025550001111", "120363025550001111@g.us"),
    ("https://chat.whatsapp.com/120363025550001111", "120363025550001111@g.us"),
    ("https://chat.whatsapp.com/120363025550001111/", "120363025550001111@g.us"),
    ("chat.whatsapp.com/120363025550001111", "120363025550001111@g.us"),
    ("https://chat.whatsapp.com/invite/120363025550001111?mode=r_c", "120363025550001111@g.us"),
    ("12345678", "12345678@g.us"),
    ("HTTPS://CHAT.WHATSAPP.COM/120363025550001111", "120363025550001111@g.us"),
    ("  https://Chat.WhatsApp.com/120363025550001111  ", "120363025550001111@g.us"),
    ("Chat.Whatsapp.Com/120363025550001111/", "120363025550001111@g.us"),
    ("\thttps://chat.whatsapp.com/120363025550001111\n", "120363025550001111@g.us"),
    ("120363025550001111@G.US", "120363025550001111@g.us"),
])
def test_group_ids_are_normalised(raw: str, expected: str) -> None:
    assert normalize_group_id(raw) == expected


@pytest.mark.parametrize("raw", ["6281234567890@c.us", "6281234567890@s.whatsapp.net", " 6281234567890@c.us ",
                                 "6281234567890@C.US", "6281234567890@S.WhatsApp.Net"])
def test_personal_chats_are_not_groups(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="personal chat, not a group"):
        normalize_group_id(raw)


@pytest.mark.parametrize("raw", [
    "",
    "grup polres",
    "1234567",  # too short
    "1" * 21,  # too long
    "12036302555000abcd@g.us",
    "https://chat.whatsapp.com/AbCdEfGhIjK",  # an invite code, not an id
    "https://chat.whatsapp.com/",
    "120363025550001111@broadcast",
    "https://chat.whatsapp.com.example.org/120363025550001111",  # not WhatsApp's host
    "https://example.org/chat.whatsapp.com/120363025550001111",
    "HTTPS://CHAT.WHATSAPP.COM/AbCdEfGhIjK",
])
def test_what_is_not_a_group_id_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_group_id(raw)
