// The lobby: the open rooms and the rooms being created, kept current from the
// server's pushes; joining, creating (announced while the form is open: Scenario A),
// and waiting for somebody else's room to exist, then joining it.

import { LobbyLink, backoff, joinRoom } from "./protocol.js";
import { cleanName, nameProblem } from "./names.js";
import { loadName, saveName } from "./storage.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50; // GET_ROOMS holds at most 50 rooms a reply
const TURN_SECONDS = [10, 15, 20, 30, 45, 60, 90, 120, 300, 600]; // the spec allows 10–600

export class Lobby {
  // onSeat(ticket, name, roomName) when a seat is taken; onWatch(room, name or null)
  // when a room is to be watched; status(text) for the banner.
  constructor({ onSeat, onWatch, status }) {
    this.onSeat = onSeat;
    this.onWatch = onWatch;
    this.watchable = [];
    this.watchRefresh = null; // the GET_ROOMS {watchable} under way, if any
    this.status = status;
    this.rooms = new Map();
    this.creations = new Map();
    this.creationId = null; // ours, while the create form is open
    this.awaited = null; // the creation we wait for (Scenario A)
    this.link = null;
    this.attempt = 0;
    this.active = false;
    this.wire();
  }

  wire() {
    $("name").value = loadName();
    $("name").addEventListener("input", () => this.checkName());
    $("name-form").addEventListener("submit", (event) => event.preventDefault());
    $("new-room").addEventListener("click", () => this.openCreate());
    $("cancel-create").addEventListener("click", () => this.closeCreate());
    $("create-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    for (let n = 2; n <= 8; n += 1) $("players").append(new Option(`${n}`, `${n}`));
    $("turn-seconds").append(new Option("the server’s own", ""));
    for (const n of TURN_SECONDS) $("turn-seconds").append(new Option(`${n} s`, `${n}`));
    $("players").addEventListener("change", () => this.fillComputers());
    this.fillComputers();
  }

  fillComputers() {
    const players = Number($("players").value);
    const kept = Math.min(Number($("computers").value) || 0, players - 1);
    $("computers").replaceChildren(
      ...Array.from({ length: players }, (_, n) => new Option(`${n}`, `${n}`)),
    );
    $("computers").value = `${kept}`;
  }

  async show() {
    this.active = true;
    $("lobby").hidden = false;
    await this.connect();
  }

  hide() {
    this.active = false;
    this.ready(false);
    $("lobby").hidden = true;
    const link = this.link;
    this.link = null;
    if (link) link.close();
  }

  async connect() {
    const link = new LobbyLink({ onPush: (m) => this.push(m), onDown: () => this.down() });
    try {
      await link.open();
    } catch {
      return; // its close calls down(), which tries again
    }
    if (!this.active) {
      link.close();
      return;
    }
    this.link = link;
    this.attempt = 0;
    this.status(null);
    await this.refresh();
    this.ready(true);
    if (this.creationId) {
      this.creationId = null;
      await this.announce(); // our announcement went with the old connection
    }
  }

  // Creating and joining need the lobby's connection: their buttons wait for it.
  ready(on) {
    $("new-room").disabled = !on;
    $("create").disabled = !on;
    for (const button of $("rooms").querySelectorAll("button")) button.disabled = !on;
  }

  down() {
    if (!this.active) return;
    this.link = null;
    this.ready(false);
    this.status("The lobby connection dropped: reconnecting…");
    setTimeout(() => this.active && this.connect(), backoff(this.attempt));
    this.attempt += 1;
  }

  async refresh() {
    const rooms = new Map();
    const creations = new Map();
    for (let offset = 0; ; offset += PAGE) {
      const reply = await this.link.request("GET_ROOMS", offset ? { offset } : undefined);
      if (reply.cmd !== "GET_ROOMS_REP") return;
      for (const room of reply.payload.data) rooms.set(room.room_id, room);
      for (const c of reply.payload.extra_data || []) creations.set(c.creation_id, c);
      if (reply.payload.data.length < PAGE) break;
    }
    this.rooms = rooms;
    this.creations = creations;
    if (this.creationId) this.creations.delete(this.creationId);
    await this.refreshWatchable();
  }

  // The rooms one may watch: no push names them (a game begun, a room closed to
  // spectators), so the list is asked again on every lobby push; one request at a time,
  // and one more if a push came meanwhile.
  async refreshWatchable() {
    if (this.watchRefresh) {
      this.watchRefresh.again = true;
      return;
    }
    this.watchRefresh = { again: false };
    const rooms = [];
    for (let offset = 0; this.link; offset += PAGE) {
      const data = offset ? { watchable: true, offset } : { watchable: true };
      const reply = await this.link.request("GET_ROOMS", data);
      if (reply.cmd !== "GET_ROOMS_REP") break;
      rooms.push(...reply.payload.data);
      if (reply.payload.data.length < PAGE) break;
    }
    const { again } = this.watchRefresh;
    this.watchRefresh = null;
    this.watchable = rooms;
    this.draw();
    if (again && this.link) await this.refreshWatchable();
  }

  push(message) {
    if (message.cmd === "LOBBY_CHANGED") {
      for (const change of message.payload.data) this.apply(change.cmd, change.data);
      if (message.payload.extra_data && message.payload.extra_data.missed) {
        this.refresh();
        return;
      }
    } else {
      this.apply(message.cmd, message.payload.data);
    }
    this.draw();
    this.refreshWatchable();
  }

  apply(cmd, data) {
    if (cmd === "ROOM_BEING_CREATED") this.creations.set(data.creation_id, data);
    if (cmd === "ROOM_ABANDONED") {
      this.creations.delete(data.creation_id);
      if (this.awaited === data.creation_id) {
        this.awaited = null;
        this.say(`${data.user_name} gave up creating the room.`);
      }
    }
    if (cmd === "ROOM_CREATED") {
      this.creations.delete(data.creation_id);
      this.rooms.set(data.room.room_id, data.room);
      if (this.awaited && this.awaited === data.creation_id) {
        this.awaited = null;
        this.join(data.room);
      }
    }
    if (cmd === "ROOM_UPDATED") {
      if (data.seats_left > 0) this.rooms.set(data.room_id, data);
      else this.rooms.delete(data.room_id);
    }
  }

  say(text) {
    $("waiting-for").textContent = text;
    $("waiting-for").hidden = !text;
  }

  // The player's name, checked as the server checks it; null (and the reason shown) if not.
  checkName() {
    const problem = nameProblem($("name").value);
    $("name-error").textContent = problem ? `Your name: ${problem}.` : "";
    $("name-error").hidden = !problem;
    if (problem) return null;
    const name = cleanName($("name").value);
    saveName(name);
    return name;
  }

  refused(reply, where) {
    const text = `The server refused: ${reply.payload.prompt}`;
    if (where === "create") {
      $("create-error").textContent = text;
      $("create-error").hidden = false;
    } else {
      $("name-error").textContent = text;
      $("name-error").hidden = false;
    }
  }

  draw() {
    const rooms = [...this.rooms.values()].filter((r) => r.seats_left > 0);
    $("rooms-empty").hidden = rooms.length > 0;
    $("rooms").replaceChildren(
      ...rooms.map((room) => {
        const item = document.createElement("li");
        item.dataset.room = room.room_id;
        const people = room.players.length ? room.players.join(", ") : "nobody yet";
        const computers = room.computers ? `, ${room.computers} computer player(s)` : "";
        const text = document.createElement("span");
        text.textContent = `“${room.room_name}”: ${people}${computers}; ${room.seats_left} seat(s) free `;
        const join = document.createElement("button");
        join.type = "button";
        join.textContent = `Join “${room.room_name}”`;
        join.disabled = !this.link;
        join.addEventListener("click", () => this.join(room));
        item.append(text, join);
        return item;
      }),
    );
    this.drawWatchable();
    const creations = [...this.creations.values()];
    $("creations-title").hidden = creations.length === 0;
    $("creations").replaceChildren(
      ...creations.map((c) => {
        const item = document.createElement("li");
        const text = document.createElement("span");
        text.textContent = `${c.user_name} is creating a room `;
        item.append(text);
        if (this.awaited === c.creation_id) {
          text.textContent += "(you are waiting for it)";
        } else {
          const wait = document.createElement("button");
          wait.type = "button";
          wait.textContent = `Wait for ${c.user_name}’s room`;
          wait.addEventListener("click", () => this.waitFor(c));
          item.append(wait);
        }
        return item;
      }),
    );
  }

  drawWatchable() {
    $("watchable-empty").hidden = this.watchable.length > 0;
    $("watchable").replaceChildren(
      ...this.watchable.map((room) => {
        const item = document.createElement("li");
        item.dataset.room = room.room_id;
        const people = room.players.length ? room.players.join(", ") : "nobody yet";
        const computers = room.computers ? `, ${room.computers} computer player(s)` : "";
        const state = room.playing ? "playing" : "filling";
        const text = document.createElement("span");
        text.textContent = `“${room.room_name}”: ${people}${computers}; ${state}, ${room.watching} watching `;
        const watch = document.createElement("button");
        watch.type = "button";
        watch.textContent = `Watch “${room.room_name}”`;
        watch.addEventListener("click", () => this.watch(room));
        item.append(text, watch);
        return item;
      }),
    );
  }

  // Watching needs no name; with one (valid) the spectator may chat where the room allows.
  watch(room) {
    const name = nameProblem($("name").value) ? null : this.checkName();
    this.onWatch(room, name);
  }

  waitFor(creation) {
    if (!this.checkName()) return;
    this.awaited = creation.creation_id;
    this.say(`Waiting for ${creation.user_name}’s room: you join it the moment it exists.`);
    this.draw();
  }

  async join(room) {
    const name = this.checkName();
    if (!name || !this.link) return;
    const reply = await joinRoom(this.link, { room_id: room.room_id, user_name: name });
    if (reply.cmd !== "JOIN_ROOM_REP") {
      this.refused(reply, "join");
      return;
    }
    this.onSeat(reply.payload.data, name, room.room_name);
  }

  async openCreate() {
    const name = this.checkName();
    if (!name) return;
    $("create-form").hidden = false;
    $("new-room").hidden = true;
    $("create-error").hidden = true;
    if (!$("room-name").value) $("room-name").value = `${name}’s table`;
    $("room-name").focus();
    await this.announce();
  }

  async announce() {
    if (!this.link || this.creationId) return;
    const reply = await this.link.request("CREATING_A_ROOM", { user_name: cleanName($("name").value) });
    if (reply.cmd === "CREATING_A_ROOM_REP") this.creationId = reply.payload.data.creation_id;
  }

  async closeCreate() {
    $("create-form").hidden = true;
    $("new-room").hidden = false;
    if (this.creationId && this.link) {
      this.creationId = null;
      await this.link.request("CANCEL_CREATE");
    }
  }

  async create() {
    const name = this.checkName();
    const problem = nameProblem($("room-name").value, { player: false });
    if (problem) {
      $("create-error").textContent = `The room’s name: ${problem}.`;
      $("create-error").hidden = false;
      return;
    }
    if (!name || !this.link) return;
    const roomName = cleanName($("room-name").value);
    const data = {
      room_name: roomName,
      num_of_players: Number($("players").value),
      user_name: name,
      computers: Number($("computers").value),
      spectators: $("spectators").value,
    };
    if ($("turn-seconds").value) data.turn_seconds = Number($("turn-seconds").value);
    const reply = await this.link.request("CREATE_A_ROOM", data);
    if (reply.cmd !== "CREATE_A_ROOM_REP") {
      this.refused(reply, "create");
      return;
    }
    this.creationId = null;
    $("create-form").hidden = true;
    $("new-room").hidden = false;
    this.onSeat(reply.payload.data, name, roomName);
  }
}
