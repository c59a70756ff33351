"""The lobby's menus: the room list, joining, Scenario A (wait for a room being created),
and creating a room, until the player holds a seat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cardgame.net.client import LobbyClient, ServerError, Ticket
from cardgame.net.protocol import MAX_NAME

from . import render
from .lines import Ask

if TYPE_CHECKING:
    from .terminal import TerminalClient

MENU = "1 join an existing room (recommended)\n2 create a room\n3 exit"
MENU_NO_ROOM = "1 join a room (none is open yet)\n2 create a room (recommended)\n3 exit"
MENU_BEING_CREATED = "1 join or wait for a room (recommended)\n2 create a room\n3 exit"


def menu(open_rooms: list[dict[str, Any]], creations: list[dict[str, Any]]) -> str:
    """The start menu's choices, worded for what the lobby holds, so a hint such as
    "choose 1 to wait for it" names the option as it is shown."""
    if creations:
        return MENU_BEING_CREATED
    return MENU if open_rooms else MENU_NO_ROOM


MENU_CHOICES = {"1": "join", "2": "create", "3": "exit"}


class LobbyMenu:
    """The start menu on one lobby connection."""

    def __init__(self, client: TerminalClient, lobby: LobbyClient) -> None:
        self.client = client
        self.lobby = lobby

    async def run(self) -> Ticket | None:
        """The start menu, until the player holds a seat (or exits: None)."""
        while True:
            open_rooms, creations = await self.lobby.get_rooms()
            self.lobby.pushes.clear()  # the list already reflects them
            if open_rooms or creations:
                self.client.say(render.rooms(open_rooms, creations))
            else:
                self.client.say("No room is open right now.")
            for creation in creations:
                self.client.say(
                    f"{creation['user_name']} is creating a room: choose 1 to wait for it, "
                    "or 2 to create your own."
                )
            self.client.say(menu(open_rooms, creations))
            choice = await self.choose_or_follow()
            if choice is None:
                self.client.say("The lobby changed:", style="dim")
                continue  # a room appeared, filled or is being created: the list again
            if choice == "3":
                return None
            if choice == "1":
                ticket = await self.join(open_rooms, creations)
            else:
                ticket = await self.create()
            if ticket is not None:
                return ticket

    async def choose_or_follow(self) -> str | None:
        """The menu's choice; None as soon as the lobby changes, so the list on screen is
        never stale (the pushes come while the player reads it)."""
        client = self.client
        while True:
            ask = Ask("menu", "Choose 1, 2 or 3:", options=list(MENU_CHOICES))
            line, push = await client.race(ask, self.lobby.next_push)
            if line is None:
                client.console.print()  # the prompt stays on its line otherwise
                return None
            if line.strip() in MENU_CHOICES:
                return line.strip()
            listed = ", ".join(f"`{k}` {v}" for k, v in MENU_CHOICES.items())
            client.say(f"Please type one of: {listed}.", style="yellow")
            if push is not None:
                return None

    async def join(
        self,
        open_rooms: list[dict[str, Any]],
        creations: list[dict[str, Any]],
    ) -> Ticket | None:
        if not open_rooms and not creations:
            self.client.say("There is no open room to join.")
            choice = await self.client.choose(
                "Create one? (y/n)", {"y": "creates a room", "n": "goes back"}, "create_instead"
            )
            return await self.create() if choice == "y" else None
        if not open_rooms:
            [creation, *_] = creations
            self.client.say(f"No room is open yet, but {creation['user_name']} is creating one.")
            choice = await self.client.choose(
                "1 wait for it (recommended), 2 create your own room, 3 back:",
                {"1": "waits", "2": "creates", "3": "goes back"},
                "scenario_a",
            )
            if choice == "1":
                return await self.wait_for_room(creation)
            return await self.create() if choice == "2" else None
        total = len(open_rooms) + len(creations)
        choices = {str(n): "a room" for n in range(1, total + 1)} | {"b": "goes back"}
        numbers = "1" if total == 1 else f"1-{total}"
        choice = await self.client.choose(
            f"Room number ({numbers}), or b to go back:", choices, "room"
        )
        if choice == "b":
            return None
        number = int(choice)
        if number > len(open_rooms):
            return await self.wait_for_room(creations[number - len(open_rooms) - 1])
        return await self.join_room(open_rooms[number - 1])

    async def join_room(self, room: dict[str, Any]) -> Ticket | None:
        while True:
            name = await self.client.user_name()
            try:
                ticket = await self.lobby.join_room(room["room_id"], name)
            except ServerError as err:
                self.client.say(
                    f"Could not join {room['room_name']}: {err.sentence}", style="yellow"
                )
                if err.code not in ("name_taken", "bad_name"):
                    return None
                self.client.name = None  # ask for another name
                continue
            self.client.say(f"You joined {room['room_name']}.", style="green")
            return ticket

    async def wait_for_room(self, creation: dict[str, Any]) -> Ticket | None:
        """Scenario A: wait for the room being created; its id is pushed the moment it has one."""
        await self.client.user_name()  # asked now, so the seat is taken the moment the room opens
        creator, creation_id = creation["user_name"], creation["creation_id"]
        self.client.say(
            f"Waiting for {creator}'s room… (type c to create your own instead, b to go back)"
        )
        while True:
            line, push = await self.client.race(
                Ask("wait_room", optional=True), self.lobby.next_push
            )
            if push is not None:
                data = push["payload"]["data"] or {}
                if push["cmd"] == "ROOM_CREATED" and data.get("creation_id") == creation_id:
                    room = data["room"]
                    self.client.say(f"{creator} created {room['room_name']}: joining it.")
                    return await self.join_room(room)
                if push["cmd"] == "ROOM_ABANDONED" and data.get("creation_id") == creation_id:
                    self.client.say(f"{creator} gave up creating a room.", style="yellow")
                    return None
            if line is not None:
                word = line.strip().lower()
                if word == "c":
                    return await self.create()
                if word == "b":
                    return None
                self.client.say("Still waiting: type c to create your own room, or b to go back.")

    async def create(self) -> Ticket | None:
        """Name, size and computer seats; the lobby sees that a room is being created."""
        name = await self.client.user_name()
        await self.lobby.creating(name)
        room_name = await self.client.ask_name(
            f"Room name (Enter for {name}'s room):",
            "room_name",
            default=f"{name}'s room"[:MAX_NAME],
        )
        players = await self.client.ask_int(
            "Number of players, you included (2-8):", 2, 8, "players"
        )
        computers = await self.client.ask_int(
            f"How many of them are computer players (0-{players - 1})?", 0, players - 1, "computers"
        )
        try:
            ticket = await self.lobby.create_room(
                room_name, players, name, computers=computers, **self.client.room_options
            )
        except ServerError as err:
            self.client.say(f"The room was not created: {err.sentence}", style="yellow")
            await self.lobby.cancel_create()
            return None
        self.client.say(f"You created {room_name}.", style="green")
        return ticket
