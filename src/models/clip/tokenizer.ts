/**
 * CLIP's text tokenizer, matching transformers' slow `CLIPTokenizer` without `ftfy` token for token:
 * special tokens split out first, then basic cleanup (see text-cleanup.ts), CLIP's regex pre-split,
 * byte-level BPE, `<|startoftext|> … <|endoftext|>`, right truncation and padding.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { bpeWord, byteEncode, mergeRanks, type MergeRanks } from './bpe.js';
import { basicClean } from './text-cleanup.js';

// The slow tokenizer reads merges.txt lines [1, 49152 - 256 - 2 + 1): the header line is skipped and
// at most this many merges are used.
const MAX_MERGES_FROM_TXT = 49152 - 256 - 2;

const WORD_PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

export interface CLIPTokenizerOptions {
  vocab: Map<string, number>;
  merges: ReadonlyArray<readonly [string, string]>;
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
  /** Strings that are never split or cleaned (transformers' added tokens); the four above are always included. */
  addedTokens?: string[];
  modelMaxLength?: number;
}

export type Padding = 'max_length' | 'longest' | false;

export interface EncodeOptions {
  /** 'max_length' pads to maxLength, 'longest' to the longest sequence of the batch (transformers' `padding=True`). */
  padding?: Padding;
  /** Truncate to maxLength keeping BOS and ending with EOS (default: true when maxLength is given or padding is 'max_length'). */
  truncation?: boolean;
  /** Defaults to the tokenizer's model_max_length (77). */
  maxLength?: number;
}

export interface EncodedBatch {
  /** One row per text; all rows have the same length when padding is used. */
  inputIds: number[][];
  attentionMask: number[][];
}

export class CLIPTokenizer {
  readonly vocab: Map<string, number>;
  readonly bosToken: string;
  readonly eosToken: string;
  readonly padToken: string;
  readonly unkToken: string;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  readonly modelMaxLength: number;
  private readonly ranks: MergeRanks;
  private readonly specials: string[];
  private readonly specialFirstChars: Set<number>;
  private readonly cache = new Map<string, string[]>();

  constructor(opts: CLIPTokenizerOptions) {
    this.vocab = opts.vocab;
    this.ranks = mergeRanks(opts.merges);
    this.bosToken = opts.bosToken ?? '<|startoftext|>';
    this.eosToken = opts.eosToken ?? '<|endoftext|>';
    this.padToken = opts.padToken ?? '<|endoftext|>';
    this.unkToken = opts.unkToken ?? '<|endoftext|>';
    this.modelMaxLength = opts.modelMaxLength ?? 77;
    const id = (tok: string, role: string): number => {
      const v = this.vocab.get(tok);
      if (v === undefined) throw new UserError(`CLIP tokenizer: the ${role} token ${JSON.stringify(tok)} is not in the vocabulary`);
      return v;
    };
    this.bosTokenId = id(this.bosToken, 'bos');
    this.eosTokenId = id(this.eosToken, 'eos');
    this.padTokenId = id(this.padToken, 'pad');
    this.unkTokenId = id(this.unkToken, 'unk');
    const specials = new Set([this.bosToken, this.eosToken, this.padToken, this.unkToken, ...(opts.addedTokens ?? [])]);
    // Longest first, so that one special token that is a prefix of another does not cut it short.
    this.specials = [...specials].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    this.specialFirstChars = new Set(this.specials.map((s) => s.charCodeAt(0)));
    // Special tokens reaching the regex (e.g. after lower-casing) are kept whole, as the reference's cache does.
    this.cache.set('<|startoftext|>', ['<|startoftext|>']);
    this.cache.set('<|endoftext|>', ['<|endoftext|>']);
  }

  /**
   * Loads a model or tokenizer directory: `vocab.json` + `merges.txt` (with `tokenizer_config.json` /
   * `special_tokens_map.json` when present), or else `tokenizer.json`.
   */
  static fromDir(dir: string): CLIPTokenizer {
    const vocabPath = join(dir, 'vocab.json');
    const mergesPath = join(dir, 'merges.txt');
    const tokJsonPath = join(dir, 'tokenizer.json');
    const special = readSpecialTokens(dir);
    if (existsSync(vocabPath) && existsSync(mergesPath)) {
      return new CLIPTokenizer({ vocab: readVocabJson(vocabPath), merges: readMergesTxt(mergesPath), ...special });
    }
    if (existsSync(tokJsonPath)) return CLIPTokenizer.fromTokenizerJson(tokJsonPath, special);
    throw new UserError(`no CLIP tokenizer in ${dir}: expected vocab.json + merges.txt, or tokenizer.json`);
  }

  /** Reads a fast-tokenizer `tokenizer.json` (BPE model: `model.vocab`, `model.merges`). */
  static fromTokenizerJson(path: string, special: Partial<CLIPTokenizerOptions> = {}): CLIPTokenizer {
    const doc = readJson(path) as { model?: { type?: string; vocab?: unknown; merges?: unknown }; added_tokens?: unknown };
    const model = doc.model;
    if (!model || typeof model !== 'object' || !model.vocab || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
      throw new UserError(`${path}: expected a BPE tokenizer with "model.vocab" and "model.merges"`);
    }
    const vocab = vocabFromObject(model.vocab as Record<string, unknown>, path);
    const merges: [string, string][] = model.merges.map((m: unknown, i: number) => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new UserError(`${path}: model.merges[${i}] is not a pair of symbols`);
      }
      return [pair[0], pair[1]];
    });
    const added = Array.isArray(doc.added_tokens)
      ? doc.added_tokens.flatMap((t: unknown) => (t && typeof t === 'object' && typeof (t as { content?: unknown }).content === 'string' ? [(t as { content: string }).content] : []))
      : [];
    return new CLIPTokenizer({ vocab, merges, ...special, addedTokens: [...(special.addedTokens ?? []), ...added] });
  }

  /** BPE token strings of the text, without BOS/EOS (transformers' `tokenizer.tokenize(text)`). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of this.splitSpecials(text)) {
      if (piece.special) {
        out.push(piece.text);
        continue;
      }
      const cleaned = basicClean(piece.text);
      for (const m of cleaned.matchAll(WORD_PATTERN)) {
        for (const sym of this.bpe(byteEncode(m[0]))) out.push(sym);
      }
    }
    return out;
  }

  /** Ids of the text with BOS and EOS, untruncated and unpadded. */
  encode(text: string): number[] {
    const ids = [this.bosTokenId];
    for (const tok of this.tokenize(text)) ids.push(this.vocab.get(tok) ?? this.unkTokenId);
    ids.push(this.eosTokenId);
    return ids;
  }

  /** transformers' `tokenizer(texts, padding=…, truncation=…, max_length=…)`. */
  encodeBatch(texts: readonly string[], opts: EncodeOptions = {}): EncodedBatch {
    const padding = opts.padding ?? false;
    const maxLength = opts.maxLength ?? this.modelMaxLength;
    const truncation = opts.truncation ?? (opts.maxLength !== undefined || padding === 'max_length');
    if (!Number.isInteger(maxLength) || (truncation && maxLength < 2)) throw new UserError(`CLIP tokenizer: max_length ${maxLength} must be an integer leaving room for BOS and EOS`);
    const rows = texts.map((t) => {
      const ids = this.encode(t);
      if (truncation && ids.length > maxLength) {
        // Truncate the body, then add the special tokens back: BOS first, EOS last.
        ids.length = maxLength - 1;
        ids.push(this.eosTokenId);
      }
      return ids;
    });
    let target = 0;
    if (padding === 'max_length') target = maxLength;
    else if (padding === 'longest') for (const r of rows) target = Math.max(target, r.length);
    const inputIds: number[][] = [];
    const attentionMask: number[][] = [];
    for (const r of rows) {
      const mask = new Array<number>(Math.max(r.length, target)).fill(0);
      mask.fill(1, 0, r.length);
      const ids = r.slice();
      while (ids.length < target) ids.push(this.padTokenId);
      inputIds.push(ids);
      attentionMask.push(mask);
    }
    return { inputIds, attentionMask };
  }

  private bpe(word: string): string[] {
    let syms = this.cache.get(word);
    if (syms === undefined) {
      syms = bpeWord(word, this.ranks);
      this.cache.set(word, syms);
    }
    return syms;
  }

  private splitSpecials(text: string): { text: string; special: boolean }[] {
    const pieces: { text: string; special: boolean }[] = [];
    let start = 0;
    let i = 0;
    outer: while (i < text.length) {
      if (this.specialFirstChars.has(text.charCodeAt(i))) {
        for (const s of this.specials) {
          if (text.startsWith(s, i)) {
            if (i > start) pieces.push({ text: text.slice(start, i), special: false });
            pieces.push({ text: s, special: true });
            i += s.length;
            start = i;
            continue outer;
          }
        }
      }
      i++;
    }
    if (start < text.length) pieces.push({ text: text.slice(start), special: false });
    return pieces;
  }
}

/** Ids and mask as int64 tensors' data (row-major [batch, length]) for onnxruntime. */
export function batchToInt64(batch: EncodedBatch): { inputIds: BigInt64Array; attentionMask: BigInt64Array; dims: [number, number] } {
  const b = batch.inputIds.length;
  const len = b === 0 ? 0 : batch.inputIds[0]!.length;
  const inputIds = new BigInt64Array(b * len);
  const attentionMask = new BigInt64Array(b * len);
  for (let r = 0; r < b; r++) {
    const ids = batch.inputIds[r]!;
    const mask = batch.attentionMask[r]!;
    if (ids.length !== len) throw new Error('batchToInt64: rows of different lengths (encode with padding)');
    for (let c = 0; c < len; c++) {
      inputIds[r * len + c] = BigInt(ids[c]!);
      attentionMask[r * len + c] = BigInt(mask[c]!);
    }
  }
  return { inputIds, attentionMask, dims: [b, len] };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function vocabFromObject(obj: Record<string, unknown>, path: string): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(obj)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
      throw new UserError(`${path}: the id of token ${JSON.stringify(tok)} is not an integer from 0 to ${0x7fffffff} (got ${JSON.stringify(id)})`);
    }
    vocab.set(tok, id);
  }
  return vocab;
}

export function readVocabJson(path: string): Map<string, number> {
  const obj = readJson(path);
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new UserError(`${path}: expected an object mapping tokens to ids`);
  return vocabFromObject(obj as Record<string, unknown>, path);
}

export function readMergesTxt(path: string): [string, string][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as Error).message}`);
  }
  // Same as the reference: strip the file, skip its first line (the "#version" header), cap the count.
  const lines = text.trim().split('\n').slice(1, 1 + MAX_MERGES_FROM_TXT);
  return lines.map((line, i) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) throw new UserError(`${path}:${i + 2}: expected two symbols separated by a space`);
    return [parts[0]!, parts[1]!];
  });
}

/** Special tokens and max length from tokenizer_config.json / special_tokens_map.json (either may be absent). */
function readSpecialTokens(dir: string): Partial<CLIPTokenizerOptions> {
  const out: Partial<CLIPTokenizerOptions> = {};
  const tokenText = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
  for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const p = join(dir, file);
    if (!existsSync(p)) continue;
    const doc = readJson(p) as Record<string, unknown>;
    if (!doc || typeof doc !== 'object') continue;
    const bos = tokenText(doc.bos_token);
    const eos = tokenText(doc.eos_token);
    const pad = tokenText(doc.pad_token);
    const unk = tokenText(doc.unk_token);
    if (bos !== undefined) out.bosToken = bos;
    if (eos !== undefined) out.eosToken = eos;
    if (pad !== undefined) out.padToken = pad;
    if (unk !== undefined) out.unkToken = unk;
    // transformers stores "no limit" as a huge number (1e30); keep CLIP's 77 then.
    const maxLength = doc.model_max_length;
    if (typeof maxLength === 'number' && maxLength < 1e9) {
      if (!Number.isInteger(maxLength) || maxLength < 2) throw new UserError(`${p}: "model_max_length" must be an integer ≥ 2 (room for BOS and EOS), got ${maxLength}`);
      out.modelMaxLength = maxLength;
    }
    const added = doc.added_tokens_decoder;
    if (added && typeof added === 'object') {
      const extra = Object.values(added as Record<string, unknown>).flatMap((t) => {
        const s = tokenText(t);
        return s === undefined ? [] : [s];
      });
      out.addedTokens = [...(out.addedTokens ?? []), ...extra];
    }
  }
  return out;
}
