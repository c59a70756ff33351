"""Engine speed: ``cardgame simulate`` against RLCard's Uno and OpenSpiel's crazy_eights.

All three play complete games between uniformly random players, in the same run on
the same machine, interleaved run by run; each figure is the median of ``--repeat``
runs, and each ratio is also given as the median (and range) of the runs' own ratios,
which a neighbour's load moves less than it moves the figures. ``--before CARDGAME``
adds another ``cardgame`` (another checkout's venv, say the previous main's) to every
run, for a before/after ratio measured in the same sitting.

Two measures of each run: moves per second of wall time, and moves per CPU second of
the process that played them (``time.process_time``; for a ``cardgame`` too old to
report its ``cpu_s``, the child's CPU less that of a one-game run, its start-up). On
a machine shared with busy neighbours the CPU figure is the one to compare: wall time
counts the time a neighbour had the core.

- **cardgame**: ``cardgame simulate --bots random --json`` (a subprocess on the
  project's venv): every play and draw is checked against the game machine's table,
  and every change of state is made by its ``transitions`` Machine.
  A *move* is a play or a draw (answers to ``?`` and drop questions are not counted).
- **RLCard** ``uno`` with ``RandomAgent``s: a move is one ``env.step``. RLCard's Uno
  environment seats two players whatever ``game_num_players`` says, so the ratio is
  taken at two players.
- **OpenSpiel** ``crazy_eights`` (C++), uniformly random legal actions: a move is a
  player action; chance nodes (deals, draws) are applied but not counted.

RLCard and OpenSpiel are bench-only (``bench/requirements-engine.txt``)::

    python3 -m venv bench/.venv-engine
    bench/.venv-engine/bin/pip install -r bench/requirements-engine.txt
    bench/.venv-engine/bin/python bench/engine.py            # markdown table
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import machine

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Speed:
    wall: float  # moves per second of wall time
    cpu: float  # moves per CPU second of the process that played them


def _simulate(cardgame: str, players: int, games: int, seed: int) -> tuple[dict[str, Any], float]:
    """``cardgame simulate --json``'s report, and the CPU seconds the child process took."""
    command = [cardgame, "simulate", "--players", str(players), "--games", str(games),
               "--seed", str(seed), "--bots", "random", "--json"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(done.stdout), cpu


_START_UP: dict[tuple[str, int], float] = {}


def ours(players: int, games: int, seed: int, cardgame: str) -> Speed:
    result, cpu = _simulate(cardgame, players, games, seed)
    assert result["finished"] == games and result["conservation_ok"]
    if "cpu_s" not in result:  # a cardgame from before it reported its CPU
        if (cardgame, players) not in _START_UP:
            _START_UP[cardgame, players] = _simulate(cardgame, players, 1, seed)[1]
        result["cpu_s"] = cpu - _START_UP[cardgame, players]
    return Speed(result["moves_per_s"], result["moves"] / result["cpu_s"])


def _timed(play: Any) -> Speed:
    """Run ``play()`` (it returns the moves it made) on both clocks."""
    start, cpu = time.perf_counter(), time.process_time()
    moves = play()
    return Speed(moves / (time.perf_counter() - start), moves / (time.process_time() - cpu))


def rlcard_uno(games: int, seed: int) -> Speed:
    import rlcard
    from rlcard.agents import RandomAgent

    env = rlcard.make("uno", config={"seed": seed})
    env.set_agents([RandomAgent(num_actions=env.num_actions) for _ in range(env.num_players)])
    steps = 0
    step = env.step

    def counted(action, raw_action=False):
        nonlocal steps
        steps += 1
        return step(action, raw_action)

    env.step = counted

    def play() -> int:
        for _ in range(games):
            env.run(is_training=False)
        return steps

    return _timed(play)


def openspiel_crazy_eights(players: int, games: int, seed: int) -> Speed:
    import pyspiel

    game = pyspiel.load_game("crazy_eights", {"players": players})
    rng = random.Random(seed)

    def play() -> int:
        moves = 0
        for _ in range(games):
            state = game.new_initial_state()
            while not state.is_terminal():
                if state.is_chance_node():
                    outcomes, weights = zip(*state.chance_outcomes(), strict=True)
                    state.apply_action(rng.choices(outcomes, weights)[0])
                else:
                    state.apply_action(rng.choice(state.legal_actions()))
                    moves += 1
        return moves

    return _timed(play)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cardgame", default=str(ROOT / ".venv" / "bin" / "cardgame"))
    parser.add_argument("--before", metavar="CARDGAME", help="another cardgame to compare")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rows: dict[str, list[Speed]] = {}
    for run in range(args.repeat):  # interleaved, so drifts in machine load hit all of them
        seed = args.seed + run
        if args.before:
            rows.setdefault("cardgame before, 2 players", []).append(
                ours(2, args.games, seed, args.before)
            )
        rows.setdefault("cardgame, 2 players", []).append(ours(2, args.games, seed, args.cardgame))
        rows.setdefault("RLCard uno, 2 players", []).append(rlcard_uno(args.games, seed))
        rows.setdefault("OpenSpiel crazy_eights, 2 players", []).append(
            openspiel_crazy_eights(2, args.games, seed)
        )
        rows.setdefault("cardgame, 4 players", []).append(ours(4, args.games, seed, args.cardgame))
        rows.setdefault("OpenSpiel crazy_eights, 4 players", []).append(
            openspiel_crazy_eights(4, args.games, seed)
        )
    pairs = {
        "cardgame / RLCard (2 players)": ("cardgame, 2 players", "RLCard uno, 2 players"),
        "cardgame / OpenSpiel (2 players)": (
            "cardgame, 2 players",
            "OpenSpiel crazy_eights, 2 players",
        ),
        "cardgame / OpenSpiel (4 players)": (
            "cardgame, 4 players",
            "OpenSpiel crazy_eights, 4 players",
        ),
    }
    if args.before:
        pairs["cardgame / cardgame before (2 players)"] = (
            "cardgame, 2 players",
            "cardgame before, 2 players",
        )
        pairs["cardgame before / RLCard (2 players)"] = (
            "cardgame before, 2 players",
            "RLCard uno, 2 players",
        )
    report: dict[str, Any] = {"machine": machine(), "repeat": args.repeat, "games": args.games}
    for clock in ("wall", "cpu"):
        figures = {name: [getattr(s, clock) for s in speeds] for name, speeds in rows.items()}
        medians = {name: statistics.median(values) for name, values in figures.items()}
        report[clock] = {
            "moves_per_s": medians,
            "ratios": {name: medians[a] / medians[b] for name, (a, b) in pairs.items()},
            "run_ratios": {
                name: [x / y for x, y in zip(figures[a], figures[b], strict=True)]
                for name, (a, b) in pairs.items()
            },
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Engine moves/s, random players, median of {args.repeat} interleaved runs of "
          f"{args.games} games — {report['machine']}\n")  # fmt: skip
    print("| engine | moves per CPU second | moves per wall second |\n| --- | ---: | ---: |")
    for name in rows:
        cpu, wall = report["cpu"]["moves_per_s"][name], report["wall"]["moves_per_s"][name]
        print(f"| {name} | {cpu:,.0f} | {wall:,.0f} |")
    print()
    for clock, words in (("cpu", "per CPU second"), ("wall", "per wall second")):
        print(f"Ratios of moves {words} (of the medians; the runs' own ratios: median, range):\n")
        for name, value in report[clock]["ratios"].items():
            each = report[clock]["run_ratios"][name]
            print(f"- {name}: {value:.2f}x ({statistics.median(each):.2f}x, "
                  f"{min(each):.2f}-{max(each):.2f}x)")  # fmt: skip
        print()


if __name__ == "__main__":
    main()
