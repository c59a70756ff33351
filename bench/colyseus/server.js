// The reference server of bench/server_load.py: Discard's cards in a Colyseus 0.16 room.
//
// What a host would write with the most used open-source game server, on the workload
// cardgame serves: the same 120 cards (100 normal: 5 shapes x 4 colours x 5 copies;
// 20 specials: 5 symbols x 4 colours), 4 seats, the same deal, turn order and matching.
// Specials are simplified (pick-one/pick-two: the next player draws 1/2; skip: the next
// player loses the turn; ask and drop play as plain cards) and there are no
// combinations. Hands are hidden through StateView: each client sees only its own
// hand; everybody sees the counts, the top card, the market size and whose turn it is.
// Automatic patching is off (patchRate = null): one broadcastPatch() per accepted
// move, so each client receives one frame per move. Memory only: nothing is stored.
//
//     node server.js --port 2567
"use strict";

const { Server, Room, logger } = require("@colyseus/core");
const { WebSocketTransport } = require("@colyseus/ws-transport");
const { schema, ArraySchema, StateView } = require("@colyseus/schema");

const SHAPES = ["cross", "square", "triangle", "circle", "cup"];
const COLOURS = ["red", "blue", "green", "yellow"];
const SYMBOLS = ["1", "2", "->", "?", "-"];
const HAND = 5; // cards dealt to each of 4 to 7 players (RULES.md)

// Card n: 0..99 normal (shape, colour; 5 copies each), 100..119 special (symbol, colour).
function face(n) {
  if (n < 100) {
    const kind = Math.floor(n / 5);
    return { special: false, shape: kind % 5, colour: Math.floor(kind / 5) };
  }
  const kind = n - 100;
  return { special: true, symbol: kind % 5, colour: Math.floor(kind / 5) };
}

function matches(card, top) {
  const a = face(card);
  const b = face(top);
  if (a.colour === b.colour) return true;
  if (a.special !== b.special) return false;
  return a.special ? a.symbol === b.symbol : a.shape === b.shape;
}

const Player = schema(
  {
    id: "string",
    count: "uint8",
    // the collection first: schema 3.0 reads a field's element type from its first key
    hand: { array: "uint8", view: true },
  },
  "Player",
);

const Table = schema(
  {
    players: [Player],
    top: "uint8",
    market: "uint8",
    turn: "int8",
    moves: "uint16",
    winner: "string",
  },
  "Table",
);

function shuffle(cards) {
  for (let i = cards.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [cards[i], cards[j]] = [cards[j], cards[i]];
  }
  return cards;
}

class DiscardRoom extends Room {
  maxClients = 4;
  patchRate = null; // no automatic patches: one broadcastPatch() per accepted move

  onCreate(options) {
    this.maxClients = options.seats || 4;
    this.setSeatReservationTime(600); // seats are reserved before the timed phase
    this.state = new Table();
    Object.assign(this.state, { top: 0, market: 120, turn: -1, moves: 0, winner: "" });
    this.market = shuffle([...Array(120).keys()]);
    this.pile = [];
    this.onMessage("move", (client, message) => this.move(client, message));
  }

  onJoin(client) {
    const player = new Player();
    Object.assign(player, { id: client.sessionId, count: 0 });
    this.state.players.push(player);
    client.view = new StateView();
    client.view.add(player);
    if (this.state.players.length === this.maxClients) this.begin();
  }

  begin() {
    for (const player of this.state.players) {
      player.hand.push(...this.market.splice(-HAND));
      player.count = player.hand.length;
    }
    // The first normal card from the top starts the pile; specials passed over stay.
    const first = this.market.findLastIndex((n) => n < 100);
    this.pile.push(...this.market.splice(first, 1));
    this.state.top = this.pile.at(-1);
    this.state.market = this.market.length;
    this.state.turn = 0;
    this.broadcastPatch();
  }

  draw(player, n) {
    for (let i = 0; i < n; i++) {
      if (this.market.length === 0) {
        // the pile but its top card goes back, shuffled
        this.market = shuffle(this.pile.splice(0, this.pile.length - 1));
        if (this.market.length === 0) break;
      }
      player.hand.push(this.market.pop());
    }
    player.count = player.hand.length;
  }

  move(client, message) {
    const state = this.state;
    const seat = state.players.findIndex((p) => p.id === client.sessionId);
    if (state.winner || seat !== state.turn) {
      client.send("error", { code: "not_your_turn" });
      return;
    }
    const player = state.players[seat];
    const seats = state.players.length;
    let next = (seat + 1) % seats;
    if (message && Number.isInteger(message.card)) {
      const at = player.hand.indexOf(message.card);
      if (at < 0 || !matches(message.card, state.top)) {
        client.send("error", { code: "bad_play" });
        return;
      }
      player.hand.splice(at, 1);
      player.count = player.hand.length;
      this.pile.push(message.card);
      state.top = message.card;
      const card = face(message.card);
      if (card.special && card.symbol <= 1) this.draw(state.players[next], card.symbol + 1);
      if (card.special && card.symbol <= 2) next = (next + 1) % seats;
      if (player.hand.length === 0) state.winner = player.id;
    } else {
      this.draw(player, 1);
    }
    state.market = this.market.length;
    state.turn = next;
    state.moves += 1;
    this.broadcastPatch();
  }
}

async function main() {
  const at = process.argv.indexOf("--port");
  const port = at > 0 ? Number(process.argv[at + 1]) : 2567;
  logger.info = () => {}; // quiet, as `cardgame serve` is at its default level
  const server = new Server({ transport: new WebSocketTransport(), greet: false });
  server.define("discard", DiscardRoom);
  await server.listen(port, "127.0.0.1");
  console.log(`listening on 127.0.0.1:${port}`); // Colyseus itself stops on SIGTERM
}

module.exports = { face, matches, SHAPES, COLOURS, SYMBOLS, Table };

if (require.main === module) main();
