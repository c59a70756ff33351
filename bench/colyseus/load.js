// The load process for server.js, the Colyseus side of bench/server_load.py and
// bench/connections.py. Results go to stdout as one JSON object, with the keys of
// bench/load.py's.
//
// game mode, in two phases, as bench/load.py's:
//   1. seating (not timed): for each of --rooms rooms and each of its --games games, a
//      room is created and its --players seats reserved through the matchmaker's HTTP
//      routes;
//   2. play (timed): every seat consumes its reservation (the WebSocket connection and
//      the join) and a bot plays: the first card in hand that matches the top, else
//      draw. Each room plays its games one after another. A move's latency runs from sending it to the mover's next state update.
// idle mode: --connections clients in rooms of 8 that never fill (7 seats taken);
//   prints {"connected": n} once all are in, then holds them until stdin closes (and
//   exits, which closes them).
//
//     node load.js game --url ws://127.0.0.1:2567 --rooms 50 --players 4
//     node load.js idle --url ws://127.0.0.1:2567 --connections 2000
"use strict";

const { Client, Room } = require("colyseus.js");
const { matches } = require("./server.js");

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const totals = { moves: 0, messages: 0, bytes: 0, latencies: [], games: 0, failures: [] };

// Count every frame a client receives, whatever it carries.
const received = Room.prototype.onMessageCallback;
Room.prototype.onMessageCallback = function (event) {
  totals.messages += 1;
  totals.bytes += event.data.byteLength ?? event.data.length ?? 0;
  return received.call(this, event);
};

async function reserve(http, method, target, options) {
  const response = await fetch(`${http}/matchmake/${method}/${target}`, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(options),
  });
  const reservation = await response.json();
  if (reservation.error) throw new Error(`${method} refused: ${reservation.error}`);
  return reservation;
}

async function seatRoom(http, seats, taken) {
  const first = await reserve(http, "create", "discard", { seats });
  const reservations = [first];
  for (let i = 1; i < taken; i++) {
    reservations.push(await reserve(http, "joinById", first.room.roomId, {}));
  }
  return reservations;
}

async function limited(items, concurrency, work) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

function play(client, reservation) {
  return new Promise((resolve, reject) => {
    let sentAt = null;
    let movedAt = -1;
    client.consumeSeatReservation(reservation).then((room) => {
      room.onError((code, message) => reject(new Error(`room error ${code}: ${message}`)));
      room.onMessage("error", (message) => reject(new Error(`refused: ${message.code}`)));
      room.onStateChange((state) => {
        if (sentAt !== null) {
          totals.latencies.push(performance.now() - sentAt);
          sentAt = null;
        }
        if (state.winner) {
          room.leave().then(() => resolve(state.winner), reject);
          return;
        }
        const seat = state.players.findIndex((p) => p.id === room.sessionId);
        if (seat < 0 || state.turn !== seat || state.moves === movedAt) return;
        movedAt = state.moves;
        const hand = state.players[seat].hand;
        const card = hand.find((c) => matches(c, state.top));
        room.send("move", card === undefined ? { draw: true } : { card });
        sentAt = performance.now();
        totals.moves += 1;
      });
    }, reject);
  });
}

function percentile(ordered, fraction) {
  if (ordered.length === 0) return 0;
  return ordered[Math.max(0, Math.ceil(fraction * ordered.length) - 1)];
}

async function game(url, http) {
  const rooms = Number(option("rooms", 50));
  const players = Number(option("players", 4));
  const perRoom = Number(option("games", 1));
  const client = new Client(url);
  let start = performance.now();
  const seated = await limited([...Array(rooms * perRoom).keys()], 16, () =>
    seatRoom(http, players, players),
  );
  const seating = (performance.now() - start) / 1000;
  start = performance.now();
  const playing = [...Array(rooms).keys()].map(async (number) => {
    for (const reservations of seated.slice(number * perRoom, (number + 1) * perRoom)) {
      const winners = await Promise.all(reservations.map((r) => play(client, r)));
      if (new Set(winners).size !== 1) throw new Error(`players disagree on the winner: ${winners}`);
      totals.games += 1;
    }
  });
  for (const outcome of await Promise.allSettled(playing)) {
    if (outcome.status === "rejected") totals.failures.push(String(outcome.reason));
  }
  const seconds = (performance.now() - start) / 1000;
  const lat = totals.latencies.sort((a, b) => a - b);
  return {
    mode: "game",
    connections: rooms * players,
    seating_s: seating,
    seconds,
    moves: totals.moves,
    moves_per_s: totals.moves / seconds,
    messages: totals.messages,
    messages_per_s: totals.messages / seconds,
    mean_message_bytes: totals.bytes / Math.max(1, totals.messages),
    p50_ms: percentile(lat, 0.5),
    p99_ms: percentile(lat, 0.99),
    max_ms: lat.length ? lat.at(-1) : 0,
    games: totals.games,
    games_expected: rooms * perRoom,
    rate_limited: 0,
    id_errors: [],
    failures: totals.failures,
  };
}

async function idle(url, http) {
  const connections = Number(option("connections", 2000));
  const taken = 7; // rooms of 8 that never fill, as bench/connections.py's
  const roomCount = Math.ceil(connections / taken);
  const client = new Client(url);
  const sizes = [...Array(roomCount).keys()].map((i) =>
    Math.min(taken, connections - i * taken),
  );
  const seated = (await limited(sizes, 16, (n) => seatRoom(http, 8, n))).flat();
  const rooms = await limited(seated, 32, (r) => client.consumeSeatReservation(r));
  process.stdout.write(`${JSON.stringify({ connected: rooms.length, rooms: roomCount })}\n`);
  await new Promise((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.resume();
  });
  return { mode: "idle", connections: rooms.length };
}

async function main() {
  const mode = process.argv[2];
  const url = option("url", "ws://127.0.0.1:2567");
  const http = url.replace(/^ws/, "http");
  const cpu = process.cpuUsage();
  const result = await (mode === "idle" ? idle : game)(url, http);
  const used = process.cpuUsage(cpu);
  result.load_cpu_s = (used.user + used.system) / 1e6;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
