// The turn clock as a countdown (specs/protocol.md, "Clocks"): every view carries the
// table's `clock` ({waiting_for, seats, seconds, seconds_left}); the countdown runs
// from `seconds_left` and this page's own monotonic clock from the moment the message
// arrived. A message replayed on reconnection keeps its old `seconds_left`, so the
// JOIN_GAME_REP that follows it (what is left now) sets the clock again.

const $ = (id) => document.getElementById(id);

const WAITS = {
  first_player: "choosing who plays first",
  turn: "to play",
  request: "naming a colour or shape",
  drop: "dropping cards",
  vote: "voting",
  leave: "leaving",
};

export class Countdown {
  constructor() {
    this.clock = null;
    this.at = 0;
    this.names = [];
    this.you = null;
    this.timer = null;
  }

  // clock: a view's `clock` (or null: nothing is waited on); names: the players' names.
  set(clock, names, you) {
    this.clock = clock && clock.seconds_left !== null ? clock : null;
    this.at = performance.now();
    this.names = names;
    this.you = you;
    this.draw();
    if (this.clock && !this.timer) this.timer = setInterval(() => this.draw(), 250);
    if (!this.clock) this.stop();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.clock = null;
    $("clock").hidden = true;
  }

  left() {
    if (!this.clock) return null;
    const gone = (performance.now() - this.at) / 1000;
    return Math.max(0, Math.ceil(this.clock.seconds_left - gone));
  }

  draw() {
    const node = $("clock");
    const left = this.left();
    if (left === null) {
      node.hidden = true;
      return;
    }
    const seats = this.clock.seats || [];
    const who = seats.includes(this.you)
      ? "You have"
      : `${seats.map((s) => this.names[s] || `seat ${s}`).join(", ")} ${WAITS[this.clock.waiting_for] || ""}:`;
    node.hidden = false;
    node.dataset.secondsLeft = String(left);
    node.classList.toggle("short", left <= 10);
    node.textContent = `${who} ${left} s left (of ${Math.round(this.clock.seconds)} s)`;
  }
}
