"""Engine speed: ``cardgame simulate`` against RLCard's Uno and OpenSpiel's crazy_eights.

All three play complete games between uniformly random players, in the same run on
the same machine; each figure is the median of ``--repeat`` runs.

- **cardgame**: ``cardgame simulate --bots random --json`` (a subprocess on the
  project's venv): every play and draw goes through the ``transitions`` game machine.
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
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import machine

ROOT = Path(__file__).resolve().parent.parent


def ours(players: int, games: int, seed: int, cardgame: str) -> float:
    command = [cardgame, "simulate", "--players", str(players), "--games", str(games),
               "--seed", str(seed), "--bots", "random", "--json"]  # fmt: skip
    result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert result["finished"] == games and result["conservation_ok"]
    return result["moves_per_s"]


def rlcard_uno(games: int, seed: int) -> float:
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
    start = time.perf_counter()
    for _ in range(games):
        env.run(is_training=False)
    return steps / (time.perf_counter() - start)


def openspiel_crazy_eights(players: int, games: int, seed: int) -> float:
    import pyspiel

    game = pyspiel.load_game("crazy_eights", {"players": players})
    rng = random.Random(seed)
    moves = 0
    start = time.perf_counter()
    for _ in range(games):
        state = game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, weights = zip(*state.chance_outcomes(), strict=True)
                state.apply_action(rng.choices(outcomes, weights)[0])
            else:
                state.apply_action(rng.choice(state.legal_actions()))
                moves += 1
    return moves / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cardgame", default=str(ROOT / ".venv" / "bin" / "cardgame"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rows: dict[str, list[float]] = {}
    for run in range(args.repeat):  # interleaved, so drifts in machine load hit all three
        seed = args.seed + run
        rows.setdefault("cardgame, 2 players", []).append(ours(2, args.games, seed, args.cardgame))
        rows.setdefault("RLCard uno, 2 players", []).append(rlcard_uno(args.games, seed))
        rows.setdefault("OpenSpiel crazy_eights, 2 players", []).append(
            openspiel_crazy_eights(2, args.games, seed)
        )
        rows.setdefault("cardgame, 4 players", []).append(ours(4, args.games, seed, args.cardgame))
        rows.setdefault("OpenSpiel crazy_eights, 4 players", []).append(
            openspiel_crazy_eights(4, args.games, seed)
        )
    medians = {name: statistics.median(values) for name, values in rows.items()}
    ratios = {
        "cardgame / RLCard (2 players)": medians["cardgame, 2 players"]
        / medians["RLCard uno, 2 players"],
        "cardgame / OpenSpiel (2 players)": medians["cardgame, 2 players"]
        / medians["OpenSpiel crazy_eights, 2 players"],
        "cardgame / OpenSpiel (4 players)": medians["cardgame, 4 players"]
        / medians["OpenSpiel crazy_eights, 4 players"],
    }
    report: dict[str, Any] = {"machine": machine(), "repeat": args.repeat, "games": args.games,
                              "moves_per_s": medians, "ratios": ratios}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Engine moves/s, random players, median of {args.repeat} runs of {args.games} games "
          f"— {report['machine']}\n")  # fmt: skip
    print("| engine | moves/s |\n| --- | ---: |")
    for name, value in medians.items():
        print(f"| {name} | {value:,.0f} |")
    print()
    for name, value in ratios.items():
        print(f"- {name}: {value:.2f}x")


if __name__ == "__main__":
    main()
