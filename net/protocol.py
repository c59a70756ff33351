"""The wire format: JSON Schemas of every client message, parsing, and server envelopes.

The schemas below are the single source of truth: the server validates every
inbound frame against them (compiled with ``fastjsonschema``) before it reaches a
machine, and ``specs/schema/`` is generated from them (``python -m
cardgame.net.protocol specs/schema``; a test fails when the two drift).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

import fastjsonschema
import orjson

from cardgame.fsm import names
from cardgame.fsm.game import ProtocolError

MAX_NAME: Final = names.MAX_NAME
MAX_ID: Final = 64
#: The largest message number (JavaScript's largest safe integer; SQLite's INTEGER holds it).
MAX_MSG_ID: Final = 2**53 - 1
#: The seconds a room may give each question (CREATE_A_ROOM's ``turn_seconds``).
MIN_TURN_SECONDS: Final = 10
MAX_TURN_SECONDS: Final = 600
#: The longest chat line, in characters (after NFKC, trimmed).
MAX_CHAT: Final = 200

#: Every error code the server sends, with what it means (``specs/protocol.md`` lists them).
ERROR_CODES: Final = {
    "bad_json": "the frame is not valid JSON",
    "binary_frame": "the frame is binary; the protocol uses text frames",
    "too_large": "the frame exceeds the server's maximum size",
    "bad_message": "the message does not follow the schema of its command",
    "unknown_cmd": "no such command",
    "wrong_endpoint": "the command belongs to the other endpoint (/lobby or /game)",
    "rate_limited": "too many messages (or rooms created); slow down",
    "too_many_rooms": "the server, or the client's address, has as many rooms open as allowed",
    "shutting_down": "the server is stopping: no new room, join or game",
    "not_now": "the command is not legal in the session's (or the game's) current state",
    "bad_name": "a name that is empty, too long, renders blank, hides characters or is reserved",
    "name_taken": "somebody in that room already has that name, or one that looks like it",
    "unknown_room": "no such room",
    "room_full": "the room has no seat left",
    "bad_size": "a room seats 2 to 8 players",
    "bad_token": "the room id, user id and token do not match a seat",
    "already_connected": "the seat is connected elsewhere; the older connection was closed",
    "not_your_turn": "a move out of turn",
    "not_in_hand": "a card the player does not hold",
    "bad_card": "a text that is not a card",
    "bad_play": "neither one card nor a combination of two",
    "no_question": "an answer when no question is waiting",
    "stale_answer": "an answer quoting a message that is not the pending question",
    "too_late": "an answer (or LEAVE) after the question's clock ran out: the game went on",
    "bad_answer": "an answer that is not one of the options",
    "not_playing": "the seat is not a human player in the game",
    "not_leaving": "LEAVE without first asking to leave",
    "game_finished": "the game is over; everything it sent you has been sent again",
    "storage_unavailable": "the server cannot write to its storage; in a game the move is "
    "held and goes through later, in the lobby nothing was done",
    "moved": "another server process runs the room: send the command again to ``url``",
    "bad_text": "a chat line that is empty, too long, renders blank or hides characters",
    "spectator": "a spectator cannot play, hold a seat or (where the room says so) chat",
    "not_watchable": "the room's creator does not let anybody watch it",
    "too_many_spectators": "the room, or the server, has as many spectators as it takes",
}
#: Who may watch a room (CREATE_A_ROOM's ``spectators``): watch and chat, watch only, nobody.
SPECTATOR_RULES: Final = ("chat", "watch", "none")

_NAME: Final = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
_ID: Final = {"type": "string", "minLength": 1, "maxLength": MAX_ID}
#: GET_ROOMS pages: the first room wanted (replies hold 50 at most).
_OFFSET: Final = {"type": "integer", "minimum": 0, "maximum": MAX_MSG_ID}


def _envelope(cmd: str, data: dict[str, Any] | None, payload: dict[str, Any] | None = None):
    """A client message: ``{"cmd", "msg_id", "payload": {...}}`` with this command's payload."""
    if payload is None:
        payload = {
            "type": "object",
            "properties": {"data": data} if data else {"data": {"type": ["object", "null"]}},
            "required": ["data"] if data else [],
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": cmd,
        "type": "object",
        "properties": {"cmd": {"const": cmd}, "msg_id": _ID, "payload": payload},
        "required": ["cmd", "msg_id"] + (["payload"] if data or payload.get("required") else []),
        "additionalProperties": False,
    }


def _data(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


#: Client → server, by endpoint.
LOBBY_COMMANDS: Final = {
    "GET_ROOMS": _envelope(
        "GET_ROOMS",
        None,
        payload={
            "type": "object",
            "properties": {
                "data": {
                    "type": ["object", "null"],
                    "properties": {
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_MSG_ID},
                        # true: the rooms one may watch (filling or in play), not the open ones
                        "watchable": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                }
            },
        },
    ),
    "CREATING_A_ROOM": _envelope("CREATING_A_ROOM", _data({"user_name": _NAME}, ["user_name"])),
    "CANCEL_CREATE": _envelope("CANCEL_CREATE", None),
    "CREATE_A_ROOM": _envelope(
        "CREATE_A_ROOM",
        _data(
            {
                "room_name": _NAME,
                "num_of_players": {"type": "integer", "minimum": 2, "maximum": 8},
                "user_name": _NAME,
                "computers": {"type": "integer", "minimum": 0, "maximum": 7},
                "turn_seconds": {
                    "type": "integer",
                    "minimum": MIN_TURN_SECONDS,
                    "maximum": MAX_TURN_SECONDS,
                },
                "spectators": {"enum": list(SPECTATOR_RULES)},
            },
            ["room_name", "num_of_players", "user_name"],
        ),
    ),
    "JOIN_ROOM": _envelope(
        "JOIN_ROOM", _data({"room_id": _ID, "user_name": _NAME}, ["room_id", "user_name"])
    ),
    "GET_ROOMATES": _envelope("GET_ROOMATES", None),
}

GAME_COMMANDS: Final = {
    "JOIN_GAME": _envelope(
        "JOIN_GAME",
        _data(
            {
                "room_id": _ID,
                "user_id": _ID,
                "token": {"type": "string", "minLength": 1, "maxLength": 128},
                "last_msg_id": {"type": "integer", "minimum": 0, "maximum": MAX_MSG_ID},
            },
            ["room_id", "user_id", "token"],
        ),
    ),
    "GAME_MESSAGE": _envelope(
        "GAME_MESSAGE",
        None,
        payload={
            "type": "object",
            "oneOf": [
                {
                    "properties": {
                        "action": {"const": "answer"},
                        "reply_to": _ID,
                        "data": {
                            "type": ["integer", "string", "array"],
                            "maxLength": MAX_NAME,
                            "maxItems": 8,
                            "items": {"type": "string", "maxLength": 16},
                        },
                        "last_card": {"type": "boolean"},
                    },
                    "required": ["action", "reply_to", "data"],
                    "additionalProperties": False,
                },
                {
                    "properties": {"action": {"const": "leave"}},
                    "required": ["action"],
                    "additionalProperties": False,
                },
            ],
        },
    ),
    "WATCH": _envelope(
        "WATCH",
        _data(
            {
                "room_id": _ID,
                # Needed only to chat (where the room lets spectators chat).
                "user_name": _NAME,
                # Absent: from now on; a number: every public message after it, first.
                "last_msg_id": {"type": "integer", "minimum": 0, "maximum": MAX_MSG_ID},
            },
            ["room_id"],
        ),
    ),
    "GET_ROOMATES": _envelope("GET_ROOMATES", None),
    "LEAVE": _envelope("LEAVE", None),
    # Characters past MAX_CHAT are refused after NFKC (bad_text); the schema bounds the
    # frame before that (NFKC may shorten a line: "ﬁ" is "fi").
    "CHAT": _envelope(
        "CHAT",
        _data(
            {"text": {"type": "string", "minLength": 1, "maxLength": 4 * MAX_CHAT}}, ["text"]
        ),  # fmt: skip
    ),
}

#: What the client sends in the very first place: enough to name the command.
FRAME_SCHEMA: Final = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "frame",
    "type": "object",
    "properties": {"cmd": {"type": "string", "maxLength": 40}, "msg_id": _ID},
    "required": ["cmd", "msg_id"],
}

CARD: Final = {
    "type": "string",
    "pattern": r"^(red|blue|green|yellow)-(cross|square|triangle|circle|cup|1|2|->|\?|-)$",
}
_CARDS: Final = {"type": "array", "items": CARD}


def _NULL_OR(schema: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - reads like a type
    return {"anyOf": [{"type": "null"}, schema]}


#: The data of every game message: the receiving player's view, never another's hand.
#: What the table waits for, from whom, and for how long (every view carries it).
CLOCK: Final = {
    "type": "object",
    "properties": {
        "waiting_for": {"enum": ["first_player", "turn", "request", "drop", "vote", "leave"]},
        "seats": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "seconds": {"type": "number", "minimum": 0},
        "seconds_left": {"type": "number", "minimum": 0},
    },
    "required": ["waiting_for", "seats", "seconds", "seconds_left"],
    "additionalProperties": False,
}
GAME_VIEW: Final = {
    "type": "object",
    "properties": {
        "top_card": _NULL_OR(CARD),
        "turn": {"type": "integer", "minimum": 0},
        "players": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "cards": {"type": "integer", "minimum": 0},
                    "computer": {"type": "boolean"},
                },
                "required": ["name", "cards", "computer"],
                "additionalProperties": False,
            },
        },
        "penalty": {"type": "integer", "minimum": 0},
        "request": _NULL_OR({"type": "string"}),
        "market": {"type": "integer", "minimum": 0},
        "state": {"type": "string"},
        "event": {
            "enum": [
                "game_begin",
                "turn",
                "played",
                "paused",
                "vote",
                "resumed",
                "left",
                "game_over",
            ]
        },  # fmt: skip
        "you": {"type": "integer", "minimum": 0},
        "hand": _CARDS,
        "question": {"enum": ["first_player", "turn", "request", "drop", "vote"]},
        "count": {"type": "integer", "minimum": 1},
        "result": {"type": "object"},
        # On a question: the seconds it allows, and those left when it was sent.
        "seconds": {"type": "number", "minimum": 0},
        "seconds_left": {"type": "number", "minimum": 0},
        "clock": _NULL_OR(CLOCK),
        # Spectators watching the room when the message was sent.
        "watching": {"type": "integer", "minimum": 0},
    },
    "required": [
        "top_card",
        "turn",
        "players",
        "penalty",
        "request",
        "market",
        "state",
        "event",
        "you",
        "hand",
    ],  # fmt: skip
    "additionalProperties": False,
}
#: What a spectator is sent after every event: the public table, never a hand.
PUBLIC_VIEW: Final = {
    "type": "object",
    "properties": {
        key: GAME_VIEW["properties"][key]
        for key in (
            "top_card",
            "turn",
            "players",
            "penalty",
            "request",
            "market",
            "state",
            "event",
            "result",
            "clock",
            "watching",
        )  # fmt: skip
    },
    "required": [
        "top_card",
        "turn",
        "players",
        "penalty",
        "request",
        "market",
        "state",
        "event",
        "watching",
    ],  # fmt: skip
    "additionalProperties": False,
}
PICKED: Final = {
    "type": "object",
    "properties": {
        "top_card": _NULL_OR(CARD),
        "event": {"const": "picked"},
        "why": {"type": "string"},
        "hand": _CARDS,
    },
    "required": ["top_card", "event", "why", "hand"],
    "additionalProperties": False,
}
#: A player's connection dropped (their seat is held ``seconds``) or came back.
NOTICE: Final = {
    "type": "object",
    "properties": {
        "event": {"enum": ["away", "back"]},
        "player": {"type": "integer", "minimum": 0},
        "name": {"type": "string"},
        "seconds": {"type": "number", "minimum": 0},
    },
    "required": ["event", "player", "name"],
    "additionalProperties": False,
}
_ROOM: Final = {
    "type": "object",
    "properties": {
        "room_id": {"type": "string"},
        "room_name": {"type": "string"},
        "num_of_players": {"type": "integer"},
        "players": {"type": "array", "items": {"type": "string"}},
        # Seats kept for computer players, which sit once the people's seats are taken.
        "computers": {"type": "integer", "minimum": 0},
        "seats_left": {"type": "integer", "minimum": 0},
    },
    "required": ["room_id", "room_name", "num_of_players", "players", "computers", "seats_left"],
    "additionalProperties": False,
}
_CREATION: Final = {
    "type": "object",
    "properties": {"creation_id": {"type": "string"}, "user_name": {"type": "string"}},
    "required": ["creation_id", "user_name"],
    "additionalProperties": False,
}
_TICKET: Final = {
    "type": "object",
    "properties": {
        "room_id": {"type": "string"},
        "user_id": {"type": "string"},
        "token": {"type": "string"},
    },  # fmt: skip
    "required": ["room_id", "user_id", "token"],
    "additionalProperties": False,
}
_ROOMMATES: Final = {
    "type": "object",
    "properties": {
        "room_id": {"type": "string"},
        "room_name": {"type": "string"},
        "you": {"type": "integer"},
        "players": {"type": "array", "items": {"type": "object"}},
        "computers": {"type": "integer", "minimum": 0},
        "seats_left": {"type": "integer"},
        # In JOIN_GAME_REP: the msg_id of the question pending for this seat, so a
        # resuming client knows whether its last answer was applied or must be resent.
        "pending_question": _NULL_OR({"type": "string"}),
        # In JOIN_GAME_REP: the seconds this seat's own wait (its pending question, or
        # its LEAVE) allows and those left now; null when nothing waits on it.
        "seconds": _NULL_OR({"type": "number", "minimum": 0}),
        "seconds_left": _NULL_OR({"type": "number", "minimum": 0}),
        # In JOIN_GAME_REP during a game: what the table waits for (as in a view).
        "clock": _NULL_OR(CLOCK),
        # In JOIN_GAME_REP: this seat asked to leave and LEAVE has not arrived yet.
        "leaving": {"type": "boolean"},
        # In JOIN_GAME_REP: the msg_id of the JOIN_GAME it answers, so a client tells
        # its own connection's reply from an earlier connection's, replayed.
        "reply_to": {"type": "string"},
        # Spectators watching the room now.
        "watching": {"type": "integer", "minimum": 0},
    },
    "required": ["room_id", "room_name", "you", "players", "computers", "seats_left"],
}

#: A room one may watch (GET_ROOMS with ``watchable``): as in the list of open rooms,
#: with whether its game is on and how many watch it.
_WATCHABLE: Final = {
    "type": "object",
    "properties": {
        **_ROOM["properties"],
        "playing": {"type": "boolean"},
        "watching": {"type": "integer", "minimum": 0},
        "spectators": {"enum": list(SPECTATOR_RULES)},
    },
    "required": [*_ROOM["required"], "playing", "watching", "spectators"],
    "additionalProperties": False,
}
#: WATCH_REP: the room as a spectator finds it.
_WATCHED: Final = {
    "type": "object",
    "properties": {
        "room_id": {"type": "string"},
        "room_name": {"type": "string"},
        "players": {"type": "array", "items": {"type": "object"}},
        "computers": {"type": "integer", "minimum": 0},
        "seats_left": {"type": "integer", "minimum": 0},
        "watching": {"type": "integer", "minimum": 0},
        "chat": {"type": "boolean"},  # this spectator may chat (a name, and the room lets it)
        "table": _NULL_OR(PUBLIC_VIEW),  # the table now; null before the deal
        "last_msg_id": {"type": "integer", "minimum": 0},  # the public stream's latest
        "reply_to": {"type": "string"},
    },
    "required": [
        "room_id",
        "room_name",
        "players",
        "computers",
        "seats_left",
        "watching",
        "chat",
        "table",
        "last_msg_id",
        "reply_to",
    ],  # fmt: skip
    "additionalProperties": False,
}

#: A chat line, as everyone in the room receives it (the sender's copy is the reply).
CHAT_LINE: Final = {
    "type": "object",
    "properties": {
        "from": {"type": "string"},
        "seat": _NULL_OR({"type": "integer", "minimum": 0}),  # null: a spectator
        "spectator": {"type": "boolean"},
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_CHAT},
    },
    "required": ["from", "seat", "spectator", "text"],
    "additionalProperties": False,
}

_PUSHES: Final = {
    "ROOM_BEING_CREATED": _CREATION,
    "ROOM_ABANDONED": _CREATION,
    "ROOM_UPDATED": _ROOM,
    "ROOM_CREATED": {
        "type": "object",
        "properties": {"room": _ROOM, "creation_id": _NULL_OR({"type": "string"})},
        "required": ["room", "creation_id"],
    },
}
#: Several lobby pushes in one frame, in the order they happened.
_LOBBY_CHANGES: Final = {
    "type": "array",
    "items": {
        "anyOf": [
            {
                "type": "object",
                "properties": {"cmd": {"const": cmd}, "prompt": {"type": "string"}, "data": data},
                "required": ["cmd", "prompt", "data"],
                "additionalProperties": False,
            }
            for cmd, data in _PUSHES.items()
        ]
    },
}

#: Server → client: the data (and extra_data) each command carries.
SERVER_DATA: Final = {
    "GET_ROOMS_REP": (
        {"anyOf": [{"type": "array", "items": _ROOM}, {"type": "array", "items": _WATCHABLE}]},
        _NULL_OR({"type": "array", "items": _CREATION}),
    ),
    "CREATING_A_ROOM_REP": (_CREATION, {"type": "null"}),
    "CANCEL_CREATE_REP": ({"type": "null"}, {"type": "null"}),
    "CREATE_A_ROOM_REP": (_TICKET, {"type": "null"}),
    "JOIN_ROOM_REP": (_TICKET, {"type": "null"}),
    "GET_ROOMATES_REP": (_ROOMMATES, {"type": "null"}),
    **{cmd: (data, {"type": "null"}) for cmd, data in _PUSHES.items()},
    "LOBBY_CHANGED": (
        _LOBBY_CHANGES,
        _NULL_OR(
            {
                "type": "object",
                "properties": {"missed": {"type": "integer", "minimum": 1}},
                "required": ["missed"],
                "additionalProperties": False,
            }
        ),
    ),
    "JOIN_GAME_REP": (_ROOMMATES, {"type": "null"}),
    "GAME_MESSAGE_REP": ({"anyOf": [GAME_VIEW, PICKED, NOTICE, PUBLIC_VIEW]}, {}),
    "WATCH_REP": (_WATCHED, {"type": "null"}),
    "CREATE_A_COMPUTER": (GAME_VIEW, {}),
    "LEAVE_REP": (GAME_VIEW, {"type": "null"}),
    "CHAT_REP": (CHAT_LINE, {"type": "null"}),
    "ERROR": (
        {
            "type": "object",
            "properties": {
                "code": {"enum": sorted(ERROR_CODES)},
                "cmd": _NULL_OR({"type": "string"}),
                # with "moved": the ws:// or wss:// address of the process that runs the room
                "url": {"type": "string", "pattern": "^wss?://"},
            },  # fmt: skip
            "required": ["code", "cmd"],
            "additionalProperties": False,
        },
        {"type": "null"},
    ),
}


def _server_message(cmd: str, data: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "cmd": {"const": cmd},
            "msg_id": {"type": "string", "pattern": "^[0-9]+$"},
            "payload": {
                "type": "object",
                "properties": {
                    "prompt": {"type": "string"},
                    "data": data,
                    "return_type": {"enum": [None, "INT", "STR", "LIST"]},
                    "flag": {"enum": [None, "USER_INPUT_CONTINUE", "GAME_CONTINUE"]},
                    "next_cmd": {
                        "enum": [None, "PICK_OPTION", "PICK_CARDS", "PICK_ONE", "PICK_TWO"]
                    },  # fmt: skip
                    "extra_data": extra,
                },
                "required": ["prompt", "data", "return_type", "flag", "next_cmd", "extra_data"],
                "additionalProperties": False,
            },
        },
        "required": ["cmd", "msg_id", "payload"],
        "additionalProperties": False,
    }


#: Every server message, as one schema (tests validate everything they receive with it).
SERVER_SCHEMA: Final = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "server message",
    "oneOf": [_server_message(cmd, d, e) for cmd, (d, e) in SERVER_DATA.items()],
}

_frame = fastjsonschema.compile(FRAME_SCHEMA)
_VALIDATORS: Final = {
    "/lobby": {cmd: fastjsonschema.compile(s) for cmd, s in LOBBY_COMMANDS.items()},
    "/game": {cmd: fastjsonschema.compile(s) for cmd, s in GAME_COMMANDS.items()},
}
ALL_COMMANDS: Final = set(LOBBY_COMMANDS) | set(GAME_COMMANDS)


class FrameError(ProtocolError):
    """A refused frame; ``cmd`` and ``msg_id`` are what could be read of it."""

    def __init__(self, code: str, sentence: str, cmd: str | None = None, msg_id: str | None = None):
        super().__init__(code, sentence)
        self.cmd = cmd
        self.msg_id = msg_id


class _Fraction(Exception):
    pass


def _no_fractions(text: str) -> float:
    """No client field is a fraction, and JSON Schema's ``integer`` would let 3.0 through."""
    raise _Fraction(text)


_DECODER: Final = json.JSONDecoder(parse_float=_no_fractions)


def parse(frame: str | bytes, endpoint: str, max_size: int) -> dict[str, Any]:
    """A validated client message, or a :class:`FrameError` saying what is wrong with it."""
    if isinstance(frame, bytes):
        raise FrameError("binary_frame", "binary frames are not part of the protocol; send text")
    if len(frame) > max_size:
        raise FrameError("too_large", f"frames are limited to {max_size} bytes")
    try:
        message = _DECODER.decode(frame)
    except _Fraction:
        raise FrameError("bad_message", "numbers in this protocol are whole: 3, not 3.0") from None
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "the frame is not valid JSON") from None
    try:
        _frame(message)
    except fastjsonschema.JsonSchemaException as err:
        raise FrameError("bad_message", f"not a protocol message: {err.message}") from None
    cmd, msg_id = message["cmd"], message["msg_id"]
    validate = _VALIDATORS[endpoint].get(cmd)
    if validate is None:
        if cmd in ALL_COMMANDS:
            other = "/game" if endpoint == "/lobby" else "/lobby"
            raise FrameError("wrong_endpoint", f"{cmd} is sent to {other}", cmd, msg_id)
        raise FrameError("unknown_cmd", f"{cmd!r} is not a command of this protocol", cmd, msg_id)
    try:
        validate(message)
    except fastjsonschema.JsonSchemaException as err:
        raise FrameError("bad_message", f"{cmd}: {err.message}", cmd, msg_id) from None
    message.setdefault("payload", {})
    return message


def check_name(name: str, *, player: bool = True) -> str:
    """A name as it will be shown (``fsm/names.py`` has the rules), or ``bad_name``.
    A room's name need not keep clear of the players' reserved names."""
    try:
        return names.check_name(name, reserved=player)
    except names.NameError_ as err:
        raise ProtocolError("bad_name", str(err)) from None


def check_chat(text: str) -> str:
    """A chat line as it will be shown, or ``bad_text``: the names' rules for hidden
    characters (control, bidi, zero-width, private use, stacked accents, characters that
    draw nothing), at most :data:`MAX_CHAT` characters, and something to read."""
    try:
        shown = names.check_text(text).strip()
    except names.NameError_ as err:
        raise ProtocolError("bad_text", f"chat: {err}") from None
    if not shown or names.renders_blank(shown):
        raise ProtocolError("bad_text", "chat: the line shows nothing")
    if any(c in names.BLANK_CHARACTERS for c in shown):
        raise ProtocolError("bad_text", "chat: the line holds characters that draw nothing")
    if len(shown) > MAX_CHAT:
        raise ProtocolError("bad_text", f"chat lines are at most {MAX_CHAT} characters")
    return shown


def envelope(
    cmd: str,
    msg_id: str,
    prompt: str,
    data: Any = None,
    extra_data: Any = None,
) -> dict[str, Any]:
    """A server message with the six payload keys, as every server message has."""
    return {
        "cmd": cmd,
        "msg_id": msg_id,
        "payload": {
            "prompt": prompt,
            "data": data,
            "return_type": None,
            "flag": None,
            "next_cmd": None,
            "extra_data": extra_data,
        },
    }


def encode(message: Any) -> str:
    """A message's JSON text, the same for the wire and the store, so that each message
    is encoded once (orjson: about a tenth of the standard library's time). Keys that
    are not strings are written as strings, as ``json.dumps`` does."""
    return orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS).decode()


def error_data(code: str, cmd: str | None, url: str | None = None) -> dict[str, Any]:
    """An ERROR's data; ``url`` only for ``moved`` (where to send the command again)."""
    return {"code": code, "cmd": cmd} if url is None else {"code": code, "cmd": cmd, "url": url}


def write_schemas(directory: Path) -> list[Path]:
    """Write one JSON Schema per client command and one for server messages (specs/schema/)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for endpoint, commands in (("lobby", LOBBY_COMMANDS), ("game", GAME_COMMANDS)):
        for cmd, schema in commands.items():
            path = directory / f"{endpoint}.{cmd}.json"
            path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
            written.append(path)
    path = directory / "server.json"
    path.write_text(json.dumps(SERVER_SCHEMA, indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written


LOBBY_REPLIES: Final = [
    "GET_ROOMS_REP", "CREATING_A_ROOM_REP", "CANCEL_CREATE_REP", "CREATE_A_ROOM_REP",
    "JOIN_ROOM_REP", "GET_ROOMATES_REP", "ROOM_BEING_CREATED", "ROOM_CREATED",
    "ROOM_ABANDONED", "ROOM_UPDATED", "LOBBY_CHANGED", "ERROR",
]  # fmt: skip
GAME_REPLIES: Final = [
    "JOIN_GAME_REP", "GAME_MESSAGE_REP", "CREATE_A_COMPUTER", "LEAVE_REP", "GET_ROOMATES_REP",
    "CHAT_REP", "WATCH_REP", "ERROR",
]  # fmt: skip


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3 document of both channels, built from the same schemas."""
    messages: dict[str, Any] = {}
    for cmd, schema in {**LOBBY_COMMANDS, **GAME_COMMANDS}.items():
        messages[cmd] = {"name": cmd, "title": f"{cmd} (client)", "payload": schema}
    for cmd, (data, extra) in SERVER_DATA.items():
        messages[cmd] = {"name": cmd, "title": f"{cmd} (server)",
                         "payload": _server_message(cmd, data, extra)}  # fmt: skip

    def refs(names: list[str]) -> dict[str, Any]:
        return {n: {"$ref": f"#/components/messages/{n}"} for n in names}

    def op(action: str, channel: str, names: list[str]) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in names],
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "cardgame",
            "version": "0.1.0",
            "description": "Discard over WebSockets; the prose is specs/protocol.md.",
        },
        "servers": {"local": {"host": "127.0.0.1:8888", "protocol": "ws"}},
        "channels": {
            "lobby": {"address": "/lobby", "messages": refs([*LOBBY_COMMANDS, *LOBBY_REPLIES])},
            "game": {"address": "/game", "messages": refs([*GAME_COMMANDS, *GAME_REPLIES])},
        },
        "operations": {
            "lobbyCommands": op("receive", "lobby", list(LOBBY_COMMANDS)),
            "lobbyReplies": op("send", "lobby", LOBBY_REPLIES),
            "gameCommands": op("receive", "game", list(GAME_COMMANDS)),
            "gameReplies": op("send", "game", GAME_REPLIES),
        },
        "components": {"messages": messages},
    }


def write_specs(directory: Path) -> list[Path]:
    """specs/schema/*.json and specs/asyncapi.yaml, regenerated from this module."""
    import yaml  # a development dependency: only writing the spec needs it

    written = write_schemas(directory / "schema")
    path = directory / "asyncapi.yaml"
    path.write_text(yaml.safe_dump(asyncapi(), sort_keys=False, width=100))
    return [*written, path]


if __name__ == "__main__":
    for path in write_specs(Path(sys.argv[1] if len(sys.argv) > 1 else "specs")):
        print(path)
