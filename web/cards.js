// Cards drawn in SVG: the colour fills the card's sign; shapes are drawn, symbols are
// the terminal's marks (+1, +2, », ?, −). Nothing is downloaded.

export const COLOURS = ["red", "blue", "green", "yellow"];
export const SHAPES = ["cross", "square", "triangle", "circle", "cup"];
export const SYMBOLS = ["1", "2", "->", "?", "-"];

const MARKS = { 1: "+1", 2: "+2", "->": "»", "?": "?", "-": "−" };
const SYMBOL_NAMES = { 1: "pick-one", 2: "pick-two", "->": "skip", "?": "ask", "-": "drop" };

// "red-cross" → {colour: "red", sign: "cross", special: false}; null for anything else.
export function parseCard(text) {
  const cut = typeof text === "string" ? text.indexOf("-") : -1;
  if (cut < 0) return null;
  const colour = text.slice(0, cut);
  const sign = text.slice(cut + 1);
  if (!COLOURS.includes(colour) || !(SHAPES.includes(sign) || SYMBOLS.includes(sign))) return null;
  return { text, colour, sign, special: SYMBOLS.includes(sign) };
}

// The card in words, as the log and the screen reader say it: "red cross", "blue +1 pick-one".
export function cardWords(text) {
  const card = parseCard(text);
  if (!card) return String(text);
  return card.special
    ? `${card.colour} ${MARKS[card.sign]} ${SYMBOL_NAMES[card.sign]}`
    : `${card.colour} ${card.sign}`;
}

export function symbolName(sign) {
  return SYMBOL_NAMES[sign] || sign;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

const DRAW = {
  cross: () => svg("path", { d: "M16 8h8v8h8v8h-8v8h-8v-8H8v-8h8z" }),
  square: () => svg("rect", { x: 9, y: 9, width: 22, height: 22 }),
  triangle: () => svg("path", { d: "M20 6 34 32H6z" }),
  circle: () => svg("circle", { cx: 20, cy: 20, r: 12 }),
  cup: () => svg("path", { d: "M7 8h7v12a6 6 0 0 0 12 0V8h7v12a13 13 0 0 1-26 0z" }),
};

// The face of a card: an <svg> with the colour as a class.
export function cardFace(text) {
  const card = parseCard(text);
  const face = svg("svg", { viewBox: "0 0 40 56", class: "face", "aria-hidden": "true" });
  face.append(svg("rect", { x: 1, y: 1, width: 38, height: 54, rx: 5, class: "paper" }));
  if (!card) return face;
  const ink = svg("g", { class: `ink ${card.colour}`, transform: "translate(0 8)" });
  if (card.special) {
    const mark = svg("text", { x: 20, y: 29, "text-anchor": "middle", class: "mark" });
    mark.textContent = MARKS[card.sign];
    ink.append(mark);
  } else {
    ink.append(DRAW[card.sign]());
  }
  face.append(ink);
  return face;
}

// A card as a button (in the hand) or a figure (the top card).
export function cardElement(text, { button = false } = {}) {
  const card = parseCard(text);
  const node = document.createElement(button ? "button" : "div");
  node.className = `card ${card ? card.colour : ""}${card && card.special ? " special" : ""}`;
  node.dataset.card = text;
  if (button) node.type = "button";
  node.setAttribute("aria-label", cardWords(text));
  const words = document.createElement("span");
  words.className = "words";
  words.textContent = cardWords(text);
  node.append(cardFace(text), words);
  return node;
}
