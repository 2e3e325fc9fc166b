/**
 * JSON as the gateway accepts it from a client: valid UTF-8, at most
 * MAX_JSON_DEPTH levels of nesting, and no key twice in one object.
 *
 * JSON.parse keeps the last of duplicate keys while other parsers keep the
 * first, so a body with "transfer" twice could mean one thing to a proxy or
 * audit tool in front of the gateway and another to the gateway: refused.
 * Keys like "__proto__" are plain own properties after JSON.parse (no
 * prototype is touched), and the strict schemas refuse them as unknown.
 */
import { DomainError } from '../../../../libs/domain/src/errors';

/** The API's bodies nest two levels deep; anything far deeper is not a request for it. */
export const MAX_JSON_DEPTH = 16;

const badRequest = (message: string) => new DomainError('BadRequest', { message });
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Index of the quote closing the string literal that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
  return i;
}

/**
 * Checks nesting and key uniqueness of text JSON.parse has accepted (so it
 * is well formed). Keys compare after unescaping: "a" and "\u0061" are one key.
 */
function checkStructure(text: string, maxDepth: number): void {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i += 1) {
    switch (text.charCodeAt(i)) {
      case 0x22: {
        const end = stringEnd(text, i);
        const keys = open[open.length - 1];
        if (keyNext && keys) {
          const key = JSON.parse(text.slice(i, end + 1)) as string;
          if (keys.has(key)) throw badRequest('The request body has a key twice in one object.');
          keys.add(key);
          keyNext = false;
        }
        i = end;
        break;
      }
      case 0x7b: // {
      case 0x5b: // [
        open.push(text.charCodeAt(i) === 0x7b ? new Set() : null);
        if (open.length > maxDepth) throw badRequest(`The request body is nested more than ${maxDepth} levels deep.`);
        keyNext = open[open.length - 1] !== null;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        open.pop();
        break;
      case 0x2c: // ,
        keyNext = open[open.length - 1] !== null;
        break;
    }
  }
}

export function parseStrictJson(raw: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): unknown {
  let text: string;
  try {
    // The decoder drops a leading byte-order mark, which some clients send.
    text = utf8.decode(raw);
  } catch {
    throw badRequest('The request body is not valid UTF-8.');
  }
  if (text.trim() === '') throw badRequest('The request body is empty; a JSON object is required.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  checkStructure(text, maxDepth);
  return value;
}
