// The table: every player with their card count and whose turn it is, the top card,
// the market, the pending penalty or request; your hand as cards, the ones that match
// marked; and the controls for the question asked (select, then play; draw; announce
// the last card; name a colour or shape; drop; choose who plays first; vote).

import { cardElement, cardWords, symbolName } from "./cards.js";
import { inWords } from "./log.js";
import { isNormal, isValidPlay, penaltySymbol, playable, whyWrong } from "./rules.js";

const $ = (id) => document.getElementById(id);

// What everybody at the table sees, a spectator too: every player with their card count
// and whose turn it is, the top card, the market, the pending penalty or request.
// `away`: the seats reconnecting (players are told; the public table does not say).
export function drawPublic(view, away = []) {
  const gone = new Set(away.map(Number));
  const playing = view.state !== "finished";
  $("seats").replaceChildren(
    ...view.players.map((player, seat) => {
      const item = document.createElement("li");
      item.dataset.seat = seat;
      if (seat === view.turn && playing) item.className = "turn";
      const marks = [
        seat === view.you ? "(you)" : "",
        player.computer ? "(computer)" : "",
        gone.has(seat) ? "(reconnecting)" : "",
      ].filter(Boolean);
      const turn = seat === view.turn && playing ? "▶ " : "";
      const marked = marks.length ? ` ${marks.join(" ")}` : "";
      item.textContent = `${turn}${player.name}${marked}: ${player.cards} card(s)`;
      return item;
    }),
  );
  $("top-card").replaceChildren(view.top_card ? cardElement(view.top_card) : "");
  $("market").textContent = `${view.market} cards`;
  $("penalty").textContent = view.penalty
    ? `pick ${view.penalty} (a ${symbolName(penaltySymbol(view))} card passes it on)`
    : "none";
  $("request").textContent = view.request || "nothing";
}

// The table's state in words when nothing is asked of the reader.
export function publicWords(view) {
  if (view.state === "finished") return "The game is over.";
  if (view.state === "paused") return "The game is paused.";
  if (view.state === "voting") return "The others are voting.";
  const player = view.players[view.turn];
  return player ? `${player.name} to play.` : "";
}

export class Table {
  // onAnswer(replyTo, data, lastCard); onLeave() once the leave is confirmed.
  constructor({ onAnswer, onLeave }) {
    this.onAnswer = onAnswer;
    this.onLeave = onLeave;
    this.selected = [];
    this.seat = null;
    this.asked = null;
    $("play").addEventListener("click", () => this.play(false));
    $("draw").addEventListener("click", () => this.answer([]));
    $("drop").addEventListener("click", () => this.answer(this.chosen()));
    $("play-anyway").addEventListener("click", () => this.play(true));
    $("choose-again").addEventListener("click", () => {
      this.selected = [];
      this.explain(null);
      this.update();
      $("hand").querySelector(".card:not(:disabled)")?.focus();
    });
    $("leave").addEventListener("click", () => {
      $("confirm-leave").hidden = false;
      $("leave-yes").focus();
    });
    $("leave-no").addEventListener("click", () => {
      $("confirm-leave").hidden = true;
    });
    $("leave-yes").addEventListener("click", () => {
      $("confirm-leave").hidden = true;
      this.onLeave();
    });
    // Besides the buttons (Tab, Enter, Space), the key d draws.
    document.addEventListener("keydown", (event) => {
      if ($("table").hidden || event.target.tagName === "INPUT") return;
      if (event.key === "d" && !$("draw").hidden && !$("draw").disabled) this.answer([]);
    });
  }

  kind() {
    const question = this.seat && this.seat.question;
    return question ? question.payload.data.question : null;
  }

  draw(seat) {
    this.seat = seat;
    const view = seat.view;
    $("table").hidden = !view;
    if (!view) return;
    drawPublic(view, seat.away);
    const question = seat.question;
    const kind = this.kind();
    // the selection (indexes into the hand) holds while the hand and the question do
    const asked = `${question ? question.msg_id : ""}|${view.hand.join(",")}`;
    if (asked !== this.asked || !kind) this.selected = [];
    this.asked = asked;
    if (kind) $("table").dataset.question = kind;
    else delete $("table").dataset.question;
    $("question").textContent = this.words(view, question);
    this.drawHand(view, kind);
    this.drawOptions(view, question, kind);
    const finished = view.state === "finished" || Boolean(seat.result);
    $("play").hidden = kind !== "turn";
    $("draw").hidden = kind !== "turn";
    $("draw").textContent = view.penalty ? `Take the penalty (${view.penalty})` : "Draw";
    $("last-card-label").hidden = kind !== "turn";
    $("drop").hidden = kind !== "drop";
    $("leave").hidden = finished || Boolean(seat.leave);
    this.update();
    this.drawResult(seat);
  }

  words(view, question) {
    const kind = this.kind();
    if (view.state === "finished") return publicWords(view);
    if (kind === "turn") {
      if (view.penalty) {
        return `Your turn. You must pick ${view.penalty}: take it, or play a ${symbolName(penaltySymbol(view))} card to pass it on.`;
      }
      const asked = view.request ? ` ${view.request} was asked for.` : "";
      return `Your turn: select a card (or two special cards for a combination), then Play; or Draw.${asked}`;
    }
    if (kind === "drop") {
      const count = question.payload.data.count;
      return `Drop ${count} normal card${count === 1 ? "" : "s"}: select, then Drop.`;
    }
    if (kind === "request") return "Name a colour or a shape for the next player.";
    if (kind === "first_player") return "Who plays first?";
    if (kind === "vote") return "Should a computer player take the empty seat? No ends the game.";
    return publicWords(view);
  }

  drawHand(view, kind) {
    const matches = kind === "turn" ? playable(view) : new Set();
    const cards = view.hand.map((text, index) => {
      const node = cardElement(text, { button: true });
      node.dataset.index = index;
      const selectable = kind === "turn" || (kind === "drop" && isNormal(text));
      if (kind === "turn" && matches.has(text)) {
        node.classList.add("match");
        node.setAttribute("aria-label", `${cardWords(text)}, matches`);
      }
      if (kind === "drop" && isNormal(text)) node.classList.add("match");
      node.disabled = !selectable;
      node.addEventListener("click", () => this.toggle(index));
      return node;
    });
    $("hand").replaceChildren(...cards);
  }

  toggle(index) {
    const at = this.selected.indexOf(index);
    if (at >= 0) this.selected.splice(at, 1);
    else this.selected.push(index);
    this.explain(null);
    this.update();
  }

  // Selection as indexes into the hand, so that a card held twice can be picked twice.
  chosen() {
    return this.selected.map((i) => this.seat.view.hand[i]);
  }

  update() {
    for (const node of $("hand").children) {
      const on = this.selected.includes(Number(node.dataset.index));
      node.classList.toggle("selected", on);
      node.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const kind = this.kind();
    const count = this.selected.length;
    $("play").disabled = kind !== "turn" || count < 1 || count > 2;
    $("play").textContent = count === 2 ? "Play the combination" : "Play";
    if (kind === "drop") {
      const wanted = this.seat.question.payload.data.count;
      $("drop").disabled = count !== wanted;
    }
  }

  drawOptions(view, question, kind) {
    const buttons = [];
    const option = (label, value) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.option = String(value);
      button.addEventListener("click", () => this.answer(value));
      buttons.push(button);
    };
    if (kind === "request") for (const name of question.payload.extra_data) option(name, name);
    if (kind === "first_player") {
      for (const seat of question.payload.extra_data) {
        const player = view.players[seat];
        option(seat === view.you ? `${player.name} (you)` : player.name, seat);
      }
    }
    if (kind === "vote") {
      option("Yes, a computer plays the seat", "yes");
      option("No, end the game", "no");
    }
    $("options").replaceChildren(...buttons);
  }

  play(anyway) {
    const played = this.chosen();
    const view = this.seat.view;
    if (!anyway && !isValidPlay(view, played)) {
      const why = inWords(whyWrong(view, played)); // the cards in words, not their codes
      this.explain(`Wrong card: ${why}. Played anyway, it costs you 2 cards.`);
      return;
    }
    this.explain(null);
    this.answer(played);
  }

  explain(text) {
    $("explain").hidden = !text;
    $("explain-text").textContent = text || "";
    if (text) $("choose-again").focus();
  }

  answer(data) {
    const question = this.seat.question;
    if (!question) return;
    const lastCard = this.kind() === "turn" && $("last-card").checked;
    $("last-card").checked = false;
    this.selected = [];
    this.explain(null);
    this.onAnswer(question.msg_id, data, lastCard);
  }

  drawResult(seat) {
    const result = seat.result;
    $("result").hidden = !result;
    if (!result) return;
    const names = seat.view.players.map((p) => p.name);
    const title = {
      won: `${names[result.winner]} won the game.`,
      vote_failed: "The game ended: the vote for a computer player failed.",
      no_humans: "The game ended: no human player remained.",
    };
    $("result-title").textContent = title[result.reason] || "The game is over.";
    $("ranking").replaceChildren(
      ...result.ranking.map((r) => {
        const item = document.createElement("li");
        item.textContent = `${r.name}: ${r.cards} card(s)`;
        return item;
      }),
    );
  }
}
