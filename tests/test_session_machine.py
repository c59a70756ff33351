"""The client-session machine: every state × every command, and the mirror of server messages."""

from __future__ import annotations

import pytest

from cardgame.fsm.game import ProtocolError
from cardgame.fsm.session import (
    AWAITING_CARDS,
    AWAITING_OPTION,
    CLOSED,
    COMMANDS,
    LEAVING,
    LEGAL_COMMANDS,
    LOBBY,
    OUT_OF_STATE,
    PAUSED,
    PLAYING,
    SESSION_STATES,
    SESSION_TRANSITIONS,
    WAITING,
    Session,
)


def session_in(state: str) -> Session:
    session = Session()
    session.state = state  # transitions keeps the state in this attribute
    return session


def destination(cmd: str, state: str) -> str | None:
    [dest] = [
        d
        for t, src, d in SESSION_TRANSITIONS
        if t == cmd and (src == state or (isinstance(src, list) and state in src))
    ]
    return state if dest is None else dest


@pytest.mark.parametrize("state", SESSION_STATES)
@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_state_by_command(state, cmd):
    session = session_in(state)
    if cmd in LEGAL_COMMANDS[state]:
        session.command(cmd)
        assert session.state == destination(cmd, state)
    else:
        with pytest.raises(ProtocolError) as refused:
            session.command(cmd)
        assert refused.value.code == OUT_OF_STATE.get((cmd, state), ("not_now",))[0]
        assert cmd in refused.value.sentence and state.replace("_", " ") in refused.value.sentence
        assert session.state == state


def test_unknown_command():
    with pytest.raises(ProtocolError) as refused:
        Session().check("DEAL_ME_ACES")
    assert refused.value.code == "unknown_cmd"


def message(event=None, next_cmd=None, cmd="GAME_MESSAGE_REP"):
    return {"cmd": cmd, "msg_id": "1", "payload": {"data": {"event": event}, "next_cmd": next_cmd}}


@pytest.mark.parametrize(
    ("start", "msg", "leaving", "end"),
    [
        (WAITING, message("game_begin"), False, PLAYING),
        (WAITING, message("game_begin", "PICK_OPTION"), False, AWAITING_OPTION),
        (PLAYING, message("turn", "PICK_CARDS"), False, AWAITING_CARDS),
        (AWAITING_CARDS, message("turn"), False, PLAYING),
        (PLAYING, message("picked", "PICK_TWO"), False, PLAYING),
        (PLAYING, message("paused"), False, PAUSED),
        (PLAYING, message("paused"), True, LEAVING),
        (PAUSED, message("vote", "PICK_OPTION", "CREATE_A_COMPUTER"), False, AWAITING_OPTION),
        (AWAITING_OPTION, message("game_over"), False, CLOSED),
        (LEAVING, message(None, None, "LEAVE_REP"), False, LEAVING),
    ],
)
def test_the_session_follows_the_server(start, msg, leaving, end):
    session = session_in(start)
    session.observe(msg, you_are_leaving=leaving)
    assert session.state == end


def test_a_new_session_is_in_the_lobby_and_closes():
    session = Session()
    assert session.state == LOBBY
    session.close()
    assert session.state == CLOSED
