// Watching a room from the page (specs/protocol.md, `WATCH`): the room's public stream,
// the public table after every event and the story, never a hand or a question. What
// was watched (the room, the last msg_id of the public stream, the table and the story)
// is kept in the tab's sessionStorage, so that a reload or a dropped connection watches
// again with that msg_id and the server sends exactly what came after it.

import { backoff, homeUrl, keepTrace, newMsgId, resetTrace, trace } from "./protocol.js";
import { chatLine, drawLog, lineFor } from "./log.js";
import { drawPublic, publicWords } from "./table.js";

const $ = (id) => document.getElementById(id);
const KEY = "cardgame.watch";
const LOG_KEPT = 300;
// Refusals of WATCH after which watching again cannot help (watch_client.py's list, and
// `moved`: the page follows no other process for a spectator).
const FINAL = new Set([
  "unknown_room", "not_watchable", "game_finished", "too_many_spectators", "name_taken", "bad_name", "moved",
]);
// Parts of the table that only a seat has.
const SEAT_ONLY = ["hand", "options", "actions", "explain", "confirm-leave", "leave"];

export function loadWatch() {
  try {
    const spot = JSON.parse(sessionStorage.getItem(KEY));
    return spot && spot.roomId ? spot : null;
  } catch {
    return null;
  }
}

function saveWatch(spot) {
  if (spot.log.length > LOG_KEPT) spot.log.splice(0, spot.log.length - LOG_KEPT);
  sessionStorage.setItem(KEY, JSON.stringify(spot));
}

// A new room to watch, from its first public message (so the story is whole).
export function newWatch(room, userName) {
  resetTrace();
  return { roomId: room.room_id, roomName: room.room_name, userName, lastMsgId: 0, view: null,
    log: [], chat: null, result: null, over: null }; // prettier-ignore
}

export class Watcher {
  // onBack() when the spectator goes back to the lobby; status(text) for the banner;
  // countdown: the page's clock; table: the page's Table (its result drawing).
  constructor({ onBack, status, countdown, table }) {
    this.onBack = onBack;
    this.status = status;
    this.countdown = countdown;
    this.table = table;
    this.spot = null;
    this.ws = null;
    this.timer = null;
    this.attempt = 0;
  }

  active() {
    return this.spot !== null;
  }

  start(spot) {
    this.spot = spot;
    saveWatch(spot);
    for (const id of SEAT_ONLY) $(id).hidden = true;
    $("room").hidden = true;
    this.draw();
    if (!spot.result && !spot.over) this.connect();
  }

  connect() {
    this.status("Connecting to the room…");
    const ws = new WebSocket(`${homeUrl()}/game`);
    this.ws = ws;
    ws.onopen = () => {
      const data = { room_id: this.spot.roomId, last_msg_id: this.spot.lastMsgId };
      if (this.spot.userName) data.user_name = this.spot.userName;
      ws.send(JSON.stringify({ cmd: "WATCH", msg_id: newMsgId(), payload: { data } }));
    };
    ws.onmessage = (event) => {
      if (this.ws === ws) this.receive(JSON.parse(event.data));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.status("Connection lost: reconnecting…");
      this.timer = setTimeout(() => this.connect(), backoff(this.attempt));
      this.attempt += 1;
    };
  }

  stop() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
  }

  receive(message) {
    const spot = this.spot;
    const { cmd, msg_id: msgId, payload } = message;
    const data = payload.data;
    if (msgId !== "0") {
      const number = Number(msgId);
      if (number <= spot.lastMsgId) {
        trace.repeated.push(number);
        keepTrace();
        return; // told before
      }
      spot.lastMsgId = number;
      trace.taken.push(number);
      keepTrace();
    }
    if (cmd === "WATCH_REP") {
      this.attempt = 0;
      this.status(null);
      spot.chat = data.chat;
      spot.roomName = data.room_name;
      if (data.table) this.show(data.table);
    } else if (cmd === "CHAT_REP") {
      spot.log.push(chatLine(data));
    } else if (cmd === "ERROR") {
      this.refused(message);
    } else if (data && data.players) {
      const line = lineFor(message);
      if (line) spot.log.push(line);
      this.show(data);
      if (data.event === "game_over") this.end(data.result);
    }
    saveWatch(spot);
    this.draw();
  }

  show(table) {
    this.spot.view = table;
    trace.view = table;
    if ("clock" in table) {
      this.countdown.set(table.clock, table.players.map((p) => p.name), null);
    }
  }

  refused(message) {
    const { prompt, data } = message.payload;
    this.spot.log.push({ text: `The server refused: ${prompt}`, kind: "refused" });
    if (data && data.cmd === "WATCH" && FINAL.has(data.code)) {
      this.spot.over = data.code;
      this.stop();
      this.countdown.stop();
      this.status(null);
    }
  }

  end(result) {
    this.spot.result = result;
    this.countdown.stop();
    this.stop();
    this.status(null);
  }

  // The line typed goes to the room; the server refuses it when the room takes no chat
  // from spectators, and the refusal is shown in the story.
  say(text) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ cmd: "CHAT", msg_id: newMsgId(), payload: { data: { text } } }));
    return true;
  }

  back() {
    this.stop();
    this.countdown.stop();
    this.status(null);
    this.spot = null;
    sessionStorage.removeItem(KEY);
    for (const id of SEAT_ONLY) $(id).hidden = id === "explain" || id === "confirm-leave";
    $("watch-bar").hidden = true;
    $("chat-note").hidden = true;
    this.onBack();
  }

  draw() {
    const spot = this.spot;
    const view = spot.view;
    $("watch-bar").hidden = false;
    $("watch-title").textContent = `Watching “${spot.roomName}”`;
    $("table").hidden = !view;
    if (view) {
      drawPublic(view);
      $("watching").textContent = `${view.watching || 0}`;
      $("question").textContent = spot.result ? "The game is over." : publicWords(view);
      delete $("table").dataset.question;
    }
    drawLog($("log"), spot.log);
    const live = !spot.result && !spot.over;
    $("chat-form").hidden = !(live && spot.chat);
    $("chat-note").hidden = !(live && spot.chat === false);
    $("chat-note").textContent = spot.userName
      ? "This room takes no chat from spectators."
      : "Type your name in the lobby before watching to chat with the room.";
    if (spot.result && view) {
      this.table.drawResult({ result: spot.result, view });
    } else if (spot.over) {
      $("result").hidden = false;
      $("result-title").textContent = "You are not watching this room.";
      $("ranking").replaceChildren();
    } else {
      $("result").hidden = true;
    }
  }
}
