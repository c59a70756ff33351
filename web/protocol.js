// The socket side of the web client, written from specs/protocol.md alone.
//
// LobbyLink is a /lobby connection: requests answered by their _REP (or an ERROR
// naming the command), and the lobby's pushes. GameLink is a seat's /game
// connection: JOIN_GAME with the last msg_id seen, numbered messages taken once,
// answers resent after a reconnection exactly when the spec says (the JOIN_GAME_REP
// whose reply_to is this connection's JOIN_GAME still names the question answered
// on an earlier connection), `moved` followed, and reconnection with backoff through
// the first address.

// Client msg_ids never repeat across connections or page loads of a seat: a random
// tag per page load, then a counter (a repeat would be taken for a resend).
const TAG = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
  b.toString(16).padStart(2, "0"),
).join("");
let counter = 0;

// What this tab took from its seat's numbered stream (or the public stream of the room
// it watches, watch.js), across reloads (kept in the tab's sessionStorage), and what it
// dropped as told before; app.js shows it as window.cardgame.
const TRACE = "cardgame.trace";

function loadTrace() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(TRACE));
    if (kept && Array.isArray(kept.taken)) return { taken: kept.taken, repeated: kept.repeated, view: null };
  } catch {
    // nothing kept
  }
  return { taken: [], repeated: [], view: null };
}

export const trace = loadTrace();

export function keepTrace() {
  sessionStorage.setItem(TRACE, JSON.stringify({ taken: trace.taken, repeated: trace.repeated }));
}

// A new seat: a new stream.
export function resetTrace() {
  trace.taken = [];
  trace.repeated = [];
  keepTrace();
}

export function newMsgId() {
  counter += 1;
  return `${TAG}-${counter}`;
}

// The base ws:// or wss:// address of the server that served the page.
export function homeUrl() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  return scheme + location.host;
}

// The spec's reconnection wait before the n-th attempt: min(5 s, 0.1 s × 2^n) × [0.5, 1].
export function backoff(attempt) {
  return Math.min(5, 0.1 * 2 ** attempt) * (0.5 + Math.random() / 2) * 1000;
}

// A `moved` url names a server; its path is ours to choose.
function base(url) {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

function envelope(cmd, data, msgId = newMsgId()) {
  return { cmd, msg_id: msgId, payload: data === undefined ? {} : { data } };
}

export class LobbyLink {
  // onPush(message) gets every push; onDown() when the connection ends.
  constructor({ onPush, onDown }) {
    this.onPush = onPush;
    this.onDown = onDown;
    this.waiting = []; // [{cmd, resolve}] in the order sent
    this.ws = null;
  }

  open(url = homeUrl()) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base(url)}/lobby`);
      this.ws = ws;
      ws.onopen = () => resolve(this);
      ws.onerror = () => reject(new Error("the lobby cannot be reached"));
      ws.onmessage = (event) => this.receive(JSON.parse(event.data));
      ws.onclose = () => {
        for (const { resolve: done, cmd } of this.waiting.splice(0)) {
          done({ cmd: "ERROR", payload: { prompt: "the connection closed", data: { code: "closed", cmd } } });
        }
        if (this.ws === ws && this.onDown) this.onDown();
      };
    });
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
  }

  // The reply to cmd: its _REP, or the ERROR that names it.
  request(cmd, data) {
    return new Promise((resolve) => {
      this.waiting.push({ cmd, resolve });
      this.ws.send(JSON.stringify(envelope(cmd, data)));
    });
  }

  receive(message) {
    const { cmd, payload } = message;
    const refused = cmd === "ERROR" ? payload.data && payload.data.cmd : null;
    const index = this.waiting.findIndex((w) => cmd === `${w.cmd}_REP` || refused === w.cmd);
    if (index >= 0) {
      this.waiting.splice(index, 1)[0].resolve(message);
    } else if (this.onPush) {
      this.onPush(message);
    }
  }
}

// JOIN_ROOM, following `moved` to the process that runs the room (one hop at a time,
// at most a few, with the backoff between them).
export async function joinRoom(link, data) {
  let reply = await link.request("JOIN_ROOM", data);
  for (let hop = 0; hop < 5 && isMoved(reply); hop += 1) {
    if (hop > 1) await sleep(backoff(hop));
    const there = new LobbyLink({});
    try {
      await there.open(reply.payload.data.url);
      reply = await there.request("JOIN_ROOM", data);
    } catch (err) {
      return { cmd: "ERROR", payload: { prompt: err.message, data: { code: "moved", cmd: "JOIN_ROOM" } } };
    } finally {
      there.close();
    }
  }
  return reply;
}

function isMoved(message) {
  return message.cmd === "ERROR" && message.payload.data && message.payload.data.code === "moved";
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Codes after which the seat is gone for good (the spec's JOIN_GAME refusals).
const SEAT_GONE = new Set(["bad_token", "unknown_room", "not_playing", "game_finished"]);

export class GameLink {
  // seat: the stored record (ticket, lastMsgId, lastAnswer, leave); it is updated in
  // place and handed to save() after every change worth keeping.
  // on: {message(msg), joined(reply), down(), gone(error), save()}
  constructor(seat, on) {
    this.seat = seat;
    this.on = on;
    this.connection = 0; // this page's connection count
    this.joinId = null;
    this.ws = null;
    this.attempt = 0;
    this.moves = 0;
    this.stopped = false;
    this.timer = null;
  }

  start() {
    this.connect(homeUrl());
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  connect(url) {
    if (this.stopped) return;
    this.connection += 1;
    const connection = this.connection;
    const ws = new WebSocket(`${base(url)}/game`);
    this.ws = ws;
    this.joined = false;
    ws.onopen = () => {
      this.joinId = newMsgId();
      const { room_id, user_id, token } = this.seat.ticket;
      const data = { room_id, user_id, token, last_msg_id: this.seat.lastMsgId };
      ws.send(JSON.stringify(envelope("JOIN_GAME", data, this.joinId)));
    };
    ws.onmessage = (event) => {
      if (this.ws === ws) this.receive(JSON.parse(event.data), connection);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.on.down();
      // a dropped /game connection comes back through the first address, never `moved`'s
      this.timer = setTimeout(() => this.connect(homeUrl()), backoff(this.attempt));
      this.attempt += 1;
    };
  }

  receive(message, connection) {
    const { cmd, msg_id: msgId, payload } = message;
    if (cmd === "ERROR" && msgId === "0") {
      const code = payload.data && payload.data.code;
      if (code === "moved" && payload.data.cmd === "JOIN_GAME") {
        this.follow(payload.data.url);
        return;
      }
      if (SEAT_GONE.has(code) && payload.data.cmd === "JOIN_GAME") {
        this.stop();
        this.on.gone(message);
        return;
      }
    }
    if (msgId !== "0") {
      const number = Number(msgId);
      if (number <= this.seat.lastMsgId) {
        trace.repeated.push(number);
        keepTrace();
        return; // told before (a repeat answered again)
      }
      this.seat.lastMsgId = number;
      trace.taken.push(number);
      keepTrace();
    }
    if (cmd === "JOIN_GAME_REP" && payload.data.reply_to === this.joinId) {
      this.attempt = 0;
      this.moves = 0;
      this.joined = true;
      this.resend(payload.data, connection);
    }
    this.on.message(message);
    this.on.save();
  }

  follow(url) {
    this.moves += 1;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    const wait = this.moves > 2 ? backoff(this.moves) : 0;
    this.timer = setTimeout(() => this.connect(url), wait);
  }

  // What an earlier connection sent and the server never applied, sent again with its
  // own msg_id (the server answers a repeat from memory, never applies it twice).
  resend(reply, connection) {
    const here = this.pageConnection(connection);
    const answer = this.seat.lastAnswer;
    if (answer && answer.connection !== here && reply.pending_question === answer.reply_to) {
      this.ws.send(JSON.stringify(answer.frame));
      answer.connection = here;
    }
    const leave = this.seat.leave;
    if (leave && leave.connection !== here) {
      if (leave.stage === "asked" && !reply.leaving) {
        this.ws.send(JSON.stringify(leave.frame)); // the request never arrived
        leave.connection = here;
      } else if (leave.stage === "asked") {
        this.leave(); // the game paused for it while this page was away
      } else if (leave.stage === "sent" && reply.leaving) {
        this.ws.send(JSON.stringify(leave.frame)); // LEAVE never arrived
        leave.connection = here;
      }
    }
  }

  // Connections are told apart across page loads too: the page's tag and its count.
  pageConnection(connection) {
    return `${TAG}/${connection}`;
  }

  // Sent now if this connection has joined; otherwise kept, and sent by resend() once
  // the JOIN_GAME_REP says the server still waits for it (the server refuses a game
  // message before it). The connection it went on: null while unsent.
  send(frame) {
    if (!this.joined || !this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    this.ws.send(JSON.stringify(frame));
    return this.pageConnection(this.connection);
  }

  answer(replyTo, data, lastCard = false) {
    const payload = { action: "answer", reply_to: replyTo, data };
    if (lastCard) payload.last_card = true;
    const frame = { cmd: "GAME_MESSAGE", msg_id: newMsgId(), payload };
    this.seat.lastAnswer = { frame, reply_to: replyTo, connection: this.send(frame) };
    this.on.save();
  }

  // A chat line to the room (CHAT); everyone, this page too, gets it as CHAT_REP. Not
  // kept for a later connection: true when it went out now.
  chat(text) {
    return this.send(envelope("CHAT", { text })) !== null;
  }

  askToLeave() {
    const frame = { cmd: "GAME_MESSAGE", msg_id: newMsgId(), payload: { action: "leave" } };
    this.seat.leave = { stage: "asked", frame, connection: this.send(frame) };
    this.on.save();
  }

  leave() {
    const frame = envelope("LEAVE", undefined);
    this.seat.leave = { stage: "sent", frame, connection: this.send(frame) };
    this.on.save();
  }
}
