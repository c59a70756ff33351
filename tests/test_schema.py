"""The committed JSON Schemas are the ones the server validates with, and they agree
with an independent validator on what they accept."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cardgame.net.protocol import (
    ERROR_CODES,
    GAME_COMMANDS,
    LOBBY_COMMANDS,
    SERVER_SCHEMA,
    FrameError,
    asyncapi,
    parse,
    write_schemas,
)

SPECS = Path(__file__).resolve().parent.parent / "specs"


def test_committed_asyncapi_matches_the_code():
    committed = yaml.safe_load((SPECS / "asyncapi.yaml").read_text())
    assert committed == asyncapi(), "specs/asyncapi.yaml is stale: python -m cardgame.net.protocol"
    assert committed["asyncapi"].startswith("3.")


def test_committed_schemas_match_the_code(tmp_path):
    written = write_schemas(tmp_path)
    committed = sorted(p.name for p in (SPECS / "schema").glob("*.json"))
    assert committed == sorted(p.name for p in written)
    for path in written:
        assert json.loads(path.read_text()) == json.loads(
            (SPECS / "schema" / path.name).read_text()
        ), f"specs/schema/{path.name} is stale: run python -m cardgame.net.protocol"


def test_every_schema_is_a_valid_json_schema():
    for schema in [*LOBBY_COMMANDS.values(), *GAME_COMMANDS.values(), SERVER_SCHEMA]:
        jsonschema.Draft202012Validator.check_schema(schema)


EXAMPLES = [
    ("/lobby", {"cmd": "GET_ROOMS", "msg_id": "1"}, True),
    ("/lobby", {"cmd": "GET_ROOMS", "msg_id": "1", "payload": {"data": None}}, True),
    (
        "/lobby",
        {
            "cmd": "CREATE_A_ROOM",
            "msg_id": "1",
            "payload": {
                "data": {"room_name": "k", "num_of_players": 4, "user_name": "ada", "computers": 3}
            },
        },
        True,
    ),
    (
        "/lobby",
        {
            "cmd": "CREATE_A_ROOM",
            "msg_id": "1",
            "payload": {"data": {"room_name": "k", "num_of_players": 1, "user_name": "ada"}},
        },
        False,
    ),
    ("/lobby", {"cmd": "JOIN_ROOM", "msg_id": "1", "payload": {"data": {"room_id": "r"}}}, False),
    (
        "/game",
        {
            "cmd": "GAME_MESSAGE",
            "msg_id": "1",
            "payload": {
                "action": "answer",
                "reply_to": "3",
                "data": ["red-1", "blue-?"],
                "last_card": True,
            },
        },
        True,
    ),
    ("/game", {"cmd": "GAME_MESSAGE", "msg_id": "1", "payload": {"action": "leave"}}, True),
    (
        "/game",
        {
            "cmd": "GAME_MESSAGE",
            "msg_id": "1",
            "payload": {"action": "answer", "reply_to": "3", "data": {"x": 1}},
        },
        False,
    ),
    ("/game", {"cmd": "LEAVE", "msg_id": "1", "extra": 1}, False),
]


@pytest.mark.parametrize(("endpoint", "message", "valid"), EXAMPLES)
def test_server_and_jsonschema_agree(endpoint, message, valid):
    commands = LOBBY_COMMANDS if endpoint == "/lobby" else GAME_COMMANDS
    independent = jsonschema.Draft202012Validator(commands[message["cmd"]]).is_valid(message)
    try:
        parse(json.dumps(message), endpoint, 65536)
        ours = True
    except FrameError:
        ours = False
    assert ours is independent is valid


def test_every_error_code_is_documented_in_the_protocol_spec():
    spec = (SPECS / "protocol.md").read_text()
    missing = [code for code in ERROR_CODES if f"`{code}`" not in spec]
    assert not missing, f"specs/protocol.md does not document {missing}"


def test_every_command_is_documented_in_the_protocol_spec_and_asyncapi():
    spec = (SPECS / "protocol.md").read_text()
    asyncapi = (SPECS / "asyncapi.yaml").read_text()
    for cmd in {*LOBBY_COMMANDS, *GAME_COMMANDS}:
        assert f"`{cmd}`" in spec and cmd in asyncapi, cmd
