// The story of the game in words: the server's sentence for each message (who played
// what, who was skipped, who picked how many and why, last cards, leaves, votes, the
// result), with the cards said as the screen shows them.

import { cardWords } from "./cards.js";

const CARD_TEXT = /\b(red|blue|green|yellow)-(cross|square|triangle|circle|cup|1|2|->|\?|-)/g;
const QUESTION_TAILS = [
  "Who plays first? Answer with a seat number.",
  "Your turn: play one card or a combination of two, or [] to draw.",
  "Name a colour or a shape for the next player.",
  "Pick the normal card(s) to drop.",
  "Answer yes or no.",
];

export function inWords(sentence) {
  let text = sentence || "";
  // the question itself is asked on the table, in the page's own words
  for (const tail of QUESTION_TAILS) if (text.endsWith(tail)) text = text.slice(0, -tail.length).trim();
  return text.replace(CARD_TEXT, (card) => cardWords(card));
}

// The line a game message adds to the story, or null.
export function lineFor(message) {
  const { cmd, payload } = message;
  const data = payload.data;
  if (cmd === "ERROR") return { text: `The server refused: ${payload.prompt}`, kind: "refused" };
  if (cmd === "JOIN_GAME_REP" || cmd === "GET_ROOMATES_REP") return null;
  if (data && data.event === "picked") {
    const cards = (payload.extra_data || []).map(cardWords).join(", ");
    return { text: `${inWords(payload.prompt)}${cards ? ` You picked: ${cards}.` : ""}`, kind: "picked" };
  }
  const text = inWords(payload.prompt);
  if (!text) return null;
  const bold = data && ["game_begin", "paused", "vote", "resumed", "game_over", "left"].includes(data.event);
  return { text, kind: bold ? "news" : "" };
}

// A chat line (CHAT_REP) as typed, the sender's name first: never read as the table's
// words (a card's name typed in chat stays as typed).
export function chatLine(said) {
  return { text: `${said.from}${said.spectator ? " (watching)" : ""}: ${said.text}`, kind: "chat" };
}

export function drawLog(list, lines) {
  list.replaceChildren(
    ...lines.map(({ text, kind }) => {
      const item = document.createElement("li");
      item.textContent = text;
      if (kind) item.className = kind;
      return item;
    }),
  );
  list.lastElementChild?.scrollIntoView({ block: "nearest" });
}
