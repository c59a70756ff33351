// The web client: the lobby until a seat is taken, then the seat's game, kept in the
// browser's storage so that a reload or a dropped connection resumes exactly where the
// game was. Everything here comes from specs/protocol.md.
//
// For tests and curious players, `window.cardgame` shows what this page load took from
// the game's numbered stream: `taken` (every /game msg_id handled, in order) and
// `repeated` (ids received again and dropped, as the spec allows on resumption), and
// `view`, the table as last told (read only: the page never acts on what is set there).

import { Countdown } from "./clock.js";
import { GameLink, resetTrace, trace } from "./protocol.js";
import { Lobby } from "./lobby.js";
import { Table } from "./table.js";
import { chatLine, drawLog, lineFor } from "./log.js";
import { forgetSeat, loadSeat, newSeat, saveSeat } from "./storage.js";
import { Watcher, loadWatch, newWatch } from "./watch.js";

const $ = (id) => document.getElementById(id);
const NOTICES = new Set(["picked", "away", "back"]);
// Refusals after which the question answered is still the one to answer.
const ASKED_AGAIN = new Set(["not_in_hand", "bad_card", "bad_play", "bad_answer"]);

window.cardgame = trace;

function status(text) {
  $("status").textContent = text || "";
  $("status").hidden = !text;
  document.body.classList.toggle("reconnecting", Boolean(text));
}

class App {
  constructor() {
    this.seat = null;
    this.link = null;
    this.countdown = new Countdown();
    this.lobby = new Lobby({
      onSeat: (t, n, r) => this.seated(t, n, r),
      onWatch: (room, name) => this.watch(room, name),
      status,
    });
    this.table = new Table({
      onAnswer: (replyTo, data, lastCard) => this.answer(replyTo, data, lastCard),
      onLeave: () => this.leave(),
    });
    this.watcher = new Watcher({ onBack: () => this.toLobby(), status, countdown: this.countdown, table: this.table });
    $("to-lobby").addEventListener("click", () => this.toLobby());
    $("watch-back").addEventListener("click", () => this.toLobby());
    $("chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.say();
    });
  }

  // The line typed goes to the room; it stays in the box while the connection is down.
  say() {
    const text = $("chat-text").value.trim();
    if (!text) return;
    const sent = this.watcher.active() ? this.watcher.say(text) : this.link && this.link.chat(text);
    if (sent) $("chat-text").value = "";
  }

  start() {
    const seat = loadSeat();
    const watched = loadWatch();
    if (seat) this.play(seat);
    else if (watched) this.watcher.start(watched);
    else this.lobby.show();
  }

  watch(room, name) {
    this.lobby.hide();
    this.watcher.start(newWatch(room, name));
  }

  seated(ticket, name, roomName) {
    this.lobby.hide();
    const seat = newSeat(ticket, name, roomName);
    resetTrace();
    saveSeat(seat);
    this.play(seat);
  }

  play(seat) {
    this.seat = seat;
    this.draw();
    if (seat.result || seat.over) return;
    status("Connecting to the game…");
    this.link = new GameLink(seat, {
      message: (m) => this.message(m),
      down: () => status("Connection lost: reconnecting…"),
      gone: (error) => this.gone(error),
      save: () => saveSeat(seat),
    });
    this.link.start();
  }

  message(message) {
    const seat = this.seat;
    const { cmd, payload } = message;
    const data = payload.data;
    if (cmd === "JOIN_GAME_REP" || cmd === "GET_ROOMATES_REP") {
      seat.roommates = data;
      if (cmd === "JOIN_GAME_REP" && data.reply_to === this.link.joinId) {
        status(null);
        if (seat.question && data.pending_question !== seat.question.msg_id) seat.question = null;
        if ("clock" in data) this.clock(data.clock); // what is left now
      }
      this.draw();
      return;
    }
    if (cmd === "CHAT_REP") {
      seat.log.push(chatLine(data));
      this.draw();
      return;
    }
    const line = lineFor(message);
    if (line) seat.log.push(line);
    if (cmd === "ERROR") this.refused(message);
    else if (data && typeof data === "object") this.observe(message);
    this.draw();
  }

  // The game refused an answer that it could not take: the question still waits.
  refused(message) {
    const seat = this.seat;
    const code = message.payload.data && message.payload.data.code;
    if (message.msg_id !== "0" && ASKED_AGAIN.has(code) && !seat.question && seat.answered) {
      seat.question = seat.answered;
    }
  }

  clock(clock) {
    const view = this.seat.view;
    const names = view ? view.players.map((p) => p.name) : [];
    this.countdown.set(clock, names, view ? view.you : null);
  }

  // A numbered game message: the view, the question, the notices, the end.
  observe(message) {
    const seat = this.seat;
    const { cmd, payload } = message;
    const data = payload.data;
    const event = data.event;
    if (event === "picked") {
      if (seat.view) Object.assign(seat.view, { hand: data.hand, top_card: data.top_card });
      return;
    }
    if (event === "away" || event === "back") {
      const away = new Set(seat.away || []);
      if (event === "away") away.add(data.player);
      else away.delete(data.player);
      seat.away = [...away];
      return;
    }
    if (data.players) seat.view = data;
    if ("clock" in data) this.clock(data.clock);
    if (payload.flag === "USER_INPUT_CONTINUE") seat.question = message;
    else if (!NOTICES.has(event)) seat.question = null;
    if (!NOTICES.has(event)) seat.answered = null;
    if (event === "game_over") {
      seat.result = data.result;
      this.countdown.stop();
      this.link.stop();
      status(null);
    }
    if (event === "paused" && seat.leave && seat.leave.stage === "asked") this.link.leave();
    if (cmd === "LEAVE_REP") {
      seat.over = "left";
      this.countdown.stop();
      this.link.stop();
      status(null);
    }
  }

  gone(error) {
    this.seat.log.push({ text: `The server refused: ${error.payload.prompt}`, kind: "refused" });
    this.seat.over = error.payload.data.code;
    this.seat.question = null;
    saveSeat(this.seat);
    status(null);
    this.draw();
  }

  answer(replyTo, data, lastCard) {
    this.link.answer(replyTo, data, lastCard);
    this.seat.answered = this.seat.question;
    this.seat.question = null; // answered: the server's reply comes next
    saveSeat(this.seat);
    this.draw();
  }

  leave() {
    this.link.askToLeave();
    this.draw();
  }

  toLobby() {
    if (this.watcher.active()) {
      this.watcher.back(); // and back here, watching no more
      return;
    }
    if (this.link) this.link.stop();
    this.link = null;
    this.seat = null;
    this.countdown.stop();
    forgetSeat();
    $("table").hidden = true;
    $("room").hidden = true;
    $("result").hidden = true;
    $("chat-form").hidden = true;
    drawLog($("log"), []);
    this.lobby.show();
  }

  draw() {
    const seat = this.seat;
    trace.view = seat.view;
    drawLog($("log"), seat.log);
    const room = seat.roommates;
    $("room").hidden = Boolean(seat.view) || Boolean(seat.over);
    $("room-title").textContent = `Room “${(room && room.room_name) || seat.roomName}”`;
    if (room) {
      const computers = room.computers ? ` ${room.computers} computer player(s) sit once the people have.` : "";
      $("room-seats").textContent = `Waiting for ${room.seats_left} more player(s).${computers}`;
      $("roommates").replaceChildren(
        ...room.players.map((p, n) => {
          const item = document.createElement("li");
          const marks = [n === room.you ? "(you)" : "", p.computer ? "(computer)" : "",
            p.connected || p.computer ? "" : "(not connected)"].filter(Boolean).join(" ");
          item.textContent = `${p.name} ${marks}`;
          return item;
        }),
      );
    }
    this.table.draw(seat);
    $("chat-form").hidden = Boolean(seat.over || seat.result);
    const watching = (seat.view && seat.view.watching) || (room && room.watching) || 0;
    $("watching").textContent = `${watching}`;
    if (seat.over) {
      $("result").hidden = false;
      if (!seat.result) {
        $("result-title").textContent = seat.over === "left" ? "You left the game." : "This seat is no longer in a game.";
        $("ranking").replaceChildren();
      }
      $("leave").hidden = true;
    }
  }
}

new App().start();
