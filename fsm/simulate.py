"""Complete bot games through the real game machine, for ``cardgame simulate`` and tests."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .bots import drive, make_bot
from .cards import FULL_DECK
from .game import Game
from .machine import FINISHED


@dataclass
class GameRecord:
    finished: bool
    moves: int
    turns: int
    winner: str | None  # the winning seat's strategy
    conserved: bool


@dataclass
class Summary:
    games: int = 0
    finished: int = 0
    moves: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU: what a busy neighbour does not move
    wins: Counter[str] = field(default_factory=Counter)
    conservation_ok: bool = True

    def as_json(self) -> dict[str, Any]:
        elapsed = self.seconds or 1e-9
        return {
            "games": self.games,
            "finished": self.finished,
            "moves": self.moves,
            "moves_per_s": round(self.moves / elapsed, 1),
            "cpu_s": round(self.cpu_seconds, 3),
            "games_per_s": round(self.games / elapsed, 2),
            "mean_turns": round(self.moves / max(self.games, 1), 2),
            "wins": dict(self.wins),
            "conservation_ok": self.conservation_ok,
        }


def is_conserved(game: Game) -> bool:
    """Market + play pile + hands are exactly the 120 cards of the deck."""
    table = game.table
    everything = Counter(table.market)
    everything.update(table.play_pile)
    for seat in table.seats:
        everything.update(seat.hand)
    return everything == FULL_DECK


def play_game(strategies: Sequence[str], seed: int, move_limit: int = 20_000) -> GameRecord:
    """One complete game between bots, seated in the order given."""
    rng = random.Random(seed)
    game = Game(len(strategies), seed=rng.randrange(2**32))
    bots = {}
    for seat, strategy in enumerate(strategies):
        bots[seat] = make_bot(strategy, random.Random(rng.randrange(2**32)))
        game.join(f"{strategy}-{seat}", computer=True)
    drive(game, bots, limit=move_limit)
    conserved = is_conserved(game)
    finished = game.state == FINISHED
    winner = None
    if finished and game.result and game.result["winner"] is not None:
        winner = strategies[game.result["winner"]]
    return GameRecord(finished, game.moves, game.moves, winner, conserved)


def simulate(players: int, games: int, seed: int, strategies: Sequence[str]) -> Summary:
    """Play ``games`` games; seats take the strategies in turn, rotating each game."""
    summary = Summary()
    start, cpu = time.perf_counter(), time.process_time()
    for number in range(games):
        seated = [strategies[(number + s) % len(strategies)] for s in range(players)]
        record = play_game(seated, seed * 1_000_003 + number)
        summary.games += 1
        summary.finished += record.finished
        summary.moves += record.moves
        summary.conservation_ok = summary.conservation_ok and record.conserved
        if record.winner is not None:
            summary.wins[record.winner] += 1
    summary.seconds = time.perf_counter() - start
    summary.cpu_seconds = time.process_time() - cpu
    return summary
