// Names as the server takes them (specs/protocol.md, "Names"): NFKC, trimmed, at most 32
// characters, nothing hidden or blank, and a player's name not one the server keeps for
// its computer players. The server checks again and its reason is shown when it refuses.

const HIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/u;
const DRAWS_NOTHING = /[\u3164\u2800\u115f\u1160\uffa0\u200b]/u;
const MARKS = /\p{M}{3,}/u;
const RESERVED = /^computer(-\d+)?$/i;

export function cleanName(raw) {
  return raw.normalize("NFKC").trim();
}

// null when the name would pass, else the reason (in the server's terms).
export function nameProblem(raw, { player = true } = {}) {
  const name = cleanName(raw);
  if (!name) return "a name cannot be empty";
  if ([...name].length > 32) return "a name is at most 32 characters";
  if (HIDDEN.test(name)) return "a name cannot hold control, format or unassigned characters";
  if (MARKS.test(name)) return "at most 2 combining marks on one letter";
  if (DRAWS_NOTHING.test(name) || !/[^\s\p{M}]/u.test(name)) return "a name must not render blank";
  if (player && (RESERVED.test(name) || /\((you|computer)\)/i.test(name))) {
    return "computer, computer-N, (you) and (computer) are kept for the game's own marks";
  }
  return null;
}
