"""The games a player left (Scenario B step 4): the state kept on the player's machine.

When a player leaves, the server pauses the game and sends every player their own
state; the leaver's client keeps that message here, one JSON file per room, before
it sends ``LEAVE``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cardgame.net.client import Ticket


def data_home() -> Path:
    """The user's data directory (XDG): ``$XDG_DATA_HOME``, else ``~/.local/share``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cardgame"


def left_game_path(room_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", room_id) or "room"
    return data_home() / "left-games" / f"{safe}.json"


def save_left_game(ticket: Ticket, name: str | None, message: dict[str, Any]) -> Path:
    """The state the server sent when the game paused, kept locally."""
    path = left_game_path(ticket.room_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "room_id": ticket.room_id,
        "user_id": ticket.user_id,
        "name": name,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "msg_id": message["msg_id"],
        "prompt": message["payload"].get("prompt"),
        "state": message["payload"]["data"],
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path
