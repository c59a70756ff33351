// What matches and why a play is wrong: the public table's arithmetic of Discard
// (RULES.md; the server's reasons in the same words), so a play the client can judge
// illegal is explained before it is sent. The server remains the judge.

import { parseCard } from "./cards.js";

// Two special cards combine, first → second (RULES.md's table).
const COMBINATIONS = new Set([
  "?|1", "?|2", "?|->", "->|?", "-|1", "-|2", "-|-", "-|?", "?|-", "-|->", "->|-",
]);

// Only 1s or only 2s stack, so a pending penalty's symbol is the top card's.
export function penaltySymbol(view) {
  return view.penalty ? parseCard(view.top_card).sign : null;
}

export function satisfies(card, top, request) {
  if (request) return card.colour === request || card.sign === request || card.sign === "?";
  if (card.colour === top.colour) return true;
  return card.special === top.special && card.sign === top.sign;
}

export function combines(first, second) {
  return first.special && second.special && COMBINATIONS.has(`${first.sign}|${second.sign}`);
}

// Would these one or two cards (texts) be accepted on this view's table?
export function isValidPlay(view, played) {
  const cards = played.map(parseCard);
  const top = parseCard(view.top_card);
  if (view.penalty) return cards.length === 1 && cards[0].sign === penaltySymbol(view);
  if (!satisfies(cards[0], top, view.request)) return false;
  return cards.length === 1 || (cards.length === 2 && combines(cards[0], cards[1]));
}

// The reason a play isValidPlay refuses is wrong, as the server words it.
export function whyWrong(view, played) {
  const cards = played.map(parseCard);
  const shown = played.join(" ");
  if (view.penalty) {
    const symbol = penaltySymbol(view);
    if (cards.length === 2) return `a pick ${view.penalty} is pending: only one ${symbol} card passes it on`;
    return `a pick ${view.penalty} is pending: ${shown} is not a ${symbol} card to pass it on`;
  }
  if (cards.length === 2 && !(cards[0].special && cards[1].special)) {
    return `${shown} is no combination: only two special cards combine`;
  }
  if (cards.length === 2 && !combines(cards[0], cards[1])) return `${shown} is no combination`;
  if (view.request) return `${played[0]} is not the ${view.request} that was asked for, nor a ? card`;
  return `${played[0]} does not match ${view.top_card}`;
}

// The cards of the hand that can lead a play: they match on their own or begin a
// combination that does; under a penalty, only the cards that pass it on.
export function playable(view) {
  const top = parseCard(view.top_card);
  const symbol = penaltySymbol(view);
  return new Set(
    view.hand.filter((text) => {
      const card = parseCard(text);
      return symbol ? card.sign === symbol : satisfies(card, top, view.request);
    }),
  );
}

export function isNormal(text) {
  const card = parseCard(text);
  return Boolean(card) && !card.special;
}
