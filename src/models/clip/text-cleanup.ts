/**
 * The text cleanup transformers' slow `CLIPTokenizer` applies when `ftfy` is not installed: its
 * `BasicTokenizer(strip_accents=False, do_split_on_punc=False)` — drop NUL, U+FFFD and control/format
 * characters, turn whitespace into spaces, put spaces around CJK ideographs, NFC, lower-case, and
 * collapse whitespace. There is no HTML unescaping (openai's `SimpleTokenizer` differs there).
 */

const CONTROL = /\p{C}/u;
const SPACE_SEPARATOR = /\p{Zs}/u;

function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function cleanChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      out += ' ';
      continue;
    }
    if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    if (SPACE_SEPARATOR.test(ch)) out += ' ';
    else if (isCjkIdeograph(cp)) out += ' ' + ch + ' ';
    else out += ch;
  }
  return out;
}

// After cleanChars only U+2028/U+2029 (and spaces) remain of Python's str.isspace() set, and JS \s has both.
function splitWhitespace(text: string): string[] {
  const t = text.trim();
  return t.length === 0 ? [] : t.split(/\s+/u);
}

/** The cleaned text, words joined by single spaces (what `" ".join(BasicTokenizer.tokenize(text))` gives). */
export function basicClean(text: string): string {
  const words = splitWhitespace(cleanChars(text).normalize('NFC'));
  // Lower-casing can change lengths but never introduces whitespace; join once.
  return words.map((w) => w.toLowerCase()).join(' ');
}
