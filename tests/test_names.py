"""Names: NFKC, look-alikes, names that render blank, stacked marks, reserved names
(fsm/names.py), and the lobby refusing them with a witness game that must finish."""

from __future__ import annotations

import pytest
from rawws import witness_game

from cardgame.fsm.names import NameError_, check_name, check_text, looks_alike
from cardgame.net.client import LobbyClient, ServerError


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("ada", "ada"),
        ("  ada lovelace ", "ada lovelace"),
        ("ａｄａ", "ada"),  # fullwidth
        ("Zoë", "Zoë"),
        ("Nguyễn", "Nguyễn"),  # two marks on one letter
        ("李小龙", "李小龙"),
        ("😀 party", "😀 party"),
        ("computers fan", "computers fan"),
        ("ⓐⓓⓐ", "ada"),  # circled letters are their letters
    ],
)
def test_names_accepted_as_shown(name, shown):
    assert check_name(name) == shown


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "\u3164",  # Hangul filler
        "\u3164\u3164ada",
        "\u2800",  # braille blank
        "ada\u2800bob",
        "\u0301\u0302",  # only combining marks
        "\u200b",  # zero width space
        "ada\u200d",  # zero width joiner
        "ada\u202egro",  # right-to-left override
        "ada\u2066",  # bidi isolate
        "a\nb",
        "ada\x00",
        "\ue000boss",  # private use
        "a\u0301\u0301\u0301",  # three marks stacked
        "z\u0335\u0321\u0322\u0327",  # zalgo
        "computer-1",
        "Computer-12",
        "ｃｏｍｐｕｔｅｒ－１",  # fullwidth
        "соmputer-2",  # Cyrillic с and о
        "computer",
        "vic (you)",
        "vic ( You )",
        "x (computer)",
        "a" * 33,
        "ﷺ" * 2,  # NFKC makes 36 characters of two
    ],
)
def test_names_refused(name):
    with pytest.raises(NameError_):
        check_name(name)


def test_a_room_name_may_say_computer():
    assert check_name("computer-1 fans", reserved=False) == "computer-1 fans"
    assert check_name("the (computer) room", reserved=False)


@pytest.mark.parametrize(
    ("one", "other", "alike"),
    [
        ("ada", "ADA", True),
        ("ada", "ａｄａ", True),
        ("ada", "аda", True),  # Cyrillic а
        ("ada", "αda", True),  # Greek α
        ("bob", "Ьоb", True),  # Cyrillic soft sign and о
        ("bob1", "bobl", True),
        ("zoe", "Zoë", True),
        ("ada lovelace", "ada  lovelace", True),
        ("ada", "adam", False),
        ("mia", "mla", False),
        ("李", "季", False),
    ],
)
def test_look_alikes(one, other, alike):
    assert looks_alike(one, other) is alike


def test_chat_text_rules_are_the_same_rules():
    assert check_text("hello ｗｏｒｌｄ") == "hello world"
    with pytest.raises(NameError_):
        check_text("hi\u202e")


async def test_the_lobby_refuses_look_alikes_and_reserved_names(server):
    async with witness_game(server.url):
        async with LobbyClient.connect(server.url) as lobby:
            ticket = await lobby.create_room("kitchen", 4, "ada")
        for name, code in [
            ("аda", "name_taken"),
            ("ａｄａ", "name_taken"),
            ("ADA", "name_taken"),
            ("computer-1", "bad_name"),
            ("vic (you)", "bad_name"),
            ("\u3164", "bad_name"),
            ("\u2800", "bad_name"),
            ("e\u0301\u0301\u0301", "bad_name"),
        ]:
            async with LobbyClient.connect(server.url) as lobby:
                with pytest.raises(ServerError) as refused:
                    await lobby.join_room(ticket.room_id, name)
                assert refused.value.code == code, name
        async with LobbyClient.connect(server.url) as lobby:
            await lobby.join_room(ticket.room_id, "ｂｏｂ")
            rooms, _ = await lobby.get_rooms()
        [room] = [r for r in rooms if r["room_id"] == ticket.room_id]
        assert room["players"] == ["ada", "bob"]  # shown as normalised
