// What the browser keeps for the seat it holds, in localStorage: the ticket (room id,
// user id, token), the last msg_id taken, the table as last told and the story so far
// (the server resends only what comes after that msg_id), and what was sent and may
// need sending again (specs/protocol.md, "Resuming").

const SEAT = "cardgame.seat";
const NAME = "cardgame.name";
const LOG_KEPT = 300;

export function loadSeat() {
  try {
    const seat = JSON.parse(localStorage.getItem(SEAT));
    return seat && seat.ticket ? seat : null;
  } catch {
    return null;
  }
}

export function newSeat(ticket, name, roomName) {
  return {
    ticket,
    name,
    roomName,
    lastMsgId: 0,
    view: null, // the latest game view (data of a game message)
    question: null, // the question message waiting for an answer
    roommates: null,
    log: [],
    lastAnswer: null,
    leave: null,
    result: null,
  };
}

export function saveSeat(seat) {
  if (seat.log.length > LOG_KEPT) seat.log.splice(0, seat.log.length - LOG_KEPT);
  localStorage.setItem(SEAT, JSON.stringify(seat));
}

export function forgetSeat() {
  localStorage.removeItem(SEAT);
}

export function loadName() {
  return localStorage.getItem(NAME) || "";
}

export function saveName(name) {
  localStorage.setItem(NAME, name);
}
