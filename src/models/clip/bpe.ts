/**
 * Byte-level BPE as CLIP uses it (openai/CLIP `SimpleTokenizer`, transformers' slow `CLIPTokenizer`):
 * UTF-8 bytes are mapped to printable code points (GPT-2's `bytes_to_unicode`), the last symbol of a
 * word carries the `</w>` end-of-word marker, and pairs are merged lowest rank first.
 */

/** GPT-2's reversible byte → code point table: printable Latin-1 bytes map to themselves, the rest to 256+n. */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (printable(b)) table[b] = String.fromCharCode(b);
    else table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

const BYTE_TABLE = bytesToUnicode();
const utf8 = new TextEncoder();

/** A word's UTF-8 bytes spelled with `bytesToUnicode` code points. */
export function byteEncode(word: string): string {
  const bytes = utf8.encode(word);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TABLE[bytes[i]!];
  return out;
}

/** Merge ranks keyed by `first + ' ' + second` (symbols never contain a space). */
export type MergeRanks = Map<string, number>;

export function mergeRanks(merges: ReadonlyArray<readonly [string, string]>): MergeRanks {
  const ranks: MergeRanks = new Map();
  merges.forEach(([a, b], i) => {
    const key = a + ' ' + b;
    // A repeated pair keeps its last rank, as Python's dict(zip(merges, range(n))) does.
    ranks.set(key, i);
  });
  return ranks;
}

/**
 * Splits one byte-encoded word into BPE symbols. Same loop as the reference: repeatedly merge every
 * occurrence (left to right, non-overlapping) of the lowest-ranked adjacent pair.
 */
export function bpeWord(token: string, ranks: MergeRanks): string[] {
  if (token.length === 0) return [];
  let word: string[] = Array.from(token.slice(0, -1));
  word.push(token.slice(-1) + '</w>');
  if (word.length === 1) return word;
  for (;;) {
    let bestRank = Infinity;
    let bestFirst = '';
    let bestSecond = '';
    for (let i = 0; i + 1 < word.length; i++) {
      const r = ranks.get(word[i]! + ' ' + word[i + 1]!);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        bestFirst = word[i]!;
        bestSecond = word[i + 1]!;
      }
    }
    if (bestRank === Infinity) break;
    const next: string[] = [];
    for (let i = 0; i < word.length; ) {
      if (word[i] === bestFirst && i + 1 < word.length && word[i + 1] === bestSecond) {
        next.push(bestFirst + bestSecond);
        i += 2;
      } else {
        next.push(word[i]!);
        i += 1;
      }
    }
    word = next;
    if (word.length === 1) break;
  }
  return word;
}
