/**
 * TIES merging over a model streamed tensor by tensor (fusion_bench's `ties_merging_utils`, which works on
 * one flat vector of every parameter):
 *
 * 1. trim: per task, keep the entries with |τ| ≥ the k-th smallest |τ| over the whole model
 *    (k = d − int(d·K)); ties at the threshold are all kept, as `kthvalue` + `>=` does;
 * 2. elect: sign of the float32 sum over tasks, zeros replaced by the sign of the sum of all signs;
 * 3. disjoint merge of the entries agreeing with the elected sign: sum, mean of non-zeros, or max |·|.
 *
 * Two passes before the merge (`planTies`), as the hardware floor does, and no fourth:
 * - pass 1: per task, a histogram of the high 20 bits of the float32 bit patterns of |τ| (sign cleared)
 *   finds the bin holding the k-th smallest;
 * - pass 2: a histogram of the low 11 bits inside that bin gives the exact threshold, and the same pass
 *   counts the majority sign: every entry outside its task's bin is already known to be kept or
 *   trimmed, so a position with no entry in a bin adds its elected sign now; the few others (~0.1 % of
 *   positions) keep their τ values and are counted once the thresholds are known.
 * When that store would grow past a budget (e.g. many equal |τ| at the threshold), or with 16 tasks or
 * more (torch's blocked column sum), the majority sign is left to an extra pass, made only if some
 * element's elected sign turns out to be zero.
 */
import { subInPlace, torchColumnSum } from './f32.js';
import { F32Arena, kernelsFor, type WasmKernels } from '../tensor/kernels/arena.js';
import { Scratch } from './sources.js';

export type TiesMergeFunc = 'sum' | 'mean' | 'max';

/**
 * One tensor's inputs per task: `models[t] − base` is task t's vector (float32 subtraction); `base` may
 * be zeros when `models` already hold task vectors. The arrays are the caller's to modify: fresh, or the
 * slots of `scratch` when given.
 */
export interface TaskVectorReader {
  readonly tasks: number;
  /** The tensors taking part, in any order. */
  readonly names: readonly string[];
  numel(name: string): number;
  read(name: string, scratch?: Scratch): { base: Float32Array; models: Float32Array[] };
  /** Buffers for the passes (the merge runner's, whose slots the SIMD kernels reach); default: own. */
  readonly scratch?: Scratch;
  /**
   * The same inputs in consecutive pieces (`visit` may overwrite `models`), so that each piece stays in
   * the CPU cache while it is used; default: `read`, as one piece.
   */
  pieces?(name: string, scratch: Scratch, visit: (base: Float32Array, models: Float32Array[]) => void): void;
}

/** One tensor's inputs, piece by piece (`reader.pieces`) or whole. */
function eachPiece(reader: TaskVectorReader, name: string, scratch: Scratch, visit: (base: Float32Array, models: Float32Array[]) => void): void {
  if (reader.pieces) return reader.pieces(name, scratch, visit);
  const { base, models } = reader.read(name, scratch);
  visit(base, models);
}

/** fusion_bench's `topk_values_mask` reading of `threshold`: above 1 it is a percentage. */
export function keepFraction(threshold: number): number {
  return threshold > 1 ? threshold / 100 : threshold;
}

const ABS_MASK = 0x7fffffff;
/** |τ| bits split into 20 high bits (pass 1) and 11 low bits (pass 2). */
const LO_BITS = 11;
const LO_MASK = (1 << LO_BITS) - 1;
const HI_BINS = 1 << (31 - LO_BITS);
/** Bytes of τ values kept for the majority sign's undecided positions before giving up on them. */
const UNDECIDED_BUDGET = 32 << 20;

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Growable per-tensor buffers, allocated once per merge (fresh memory costs page faults). */
class Buffers {
  private f = new Float32Array(0);
  private s = new Int8Array(0);
  private z = new Float32Array(0);
  sum(n: number): Float32Array {
    if (this.f.length < n) this.f = new Float32Array(n);
    const v = this.f.subarray(0, n);
    v.fill(0);
    return v;
  }
  flags(n: number): Int8Array {
    if (this.s.length < n) this.s = new Int8Array(n);
    const v = this.s.subarray(0, n);
    v.fill(0);
    return v;
  }
  zeros(n: number): Float32Array {
    if (this.z.length < n) this.z = new Float32Array(n);
    return this.z.subarray(0, n);
  }
}

type Counts = Uint32Array | Float64Array;

/**
 * The counts of the threshold passes. In a WebAssembly arena of their own (each piece of |τ| copied in:
 * it is in the CPU cache) the counting loops run as WebAssembly; else, or from 2^32 elements per task
 * on (counts past 32 bits), in plain arrays with the JavaScript loops.
 */
class Histograms {
  readonly hi: Counts[];
  readonly lo: Counts[];
  private readonly arena: F32Arena | null;
  private readonly k: WasmKernels | null;
  private readonly js = new Buffers();

  constructor(private readonly n: number, d: number) {
    this.arena = d < 2 ** 32 && n <= 512 ? F32Arena.create(n + 4, HI_BINS) : null;
    this.k = this.arena && kernelsFor(this.arena.view(0, 1));
    const a = this.arena;
    if (a !== null && this.k !== null) {
      const mem = a.view(0, 0).buffer;
      this.hi = Array.from({ length: n }, (_, t) => new Uint32Array(mem, a.view(t, 0).byteOffset, HI_BINS));
      this.lo = Array.from({ length: n }, (_, t) => new Uint32Array(mem, a.view(n, 0).byteOffset + t * (4 << LO_BITS), 1 << LO_BITS));
    } else {
      const C = d < 2 ** 32 ? Uint32Array : Float64Array;
      this.hi = Array.from({ length: n }, () => new C(HI_BINS));
      this.lo = Array.from({ length: n }, () => new C(1 << LO_BITS));
    }
  }

  private stage(x: Float32Array): Float32Array {
    const s = this.arena!.view(this.n + 1, x.length);
    s.set(x);
    return s;
  }

  /** Pass 1: task t's histogram of the high bits of |τ| (τ given as x). */
  countHigh(t: number, x: Float32Array): void {
    const h = this.hi[t]!;
    if (this.k !== null) return this.k.histHigh(this.stage(x).byteOffset, x.length, h.byteOffset);
    const u = bitsOf(x);
    for (let i = 0; i < u.length; i++) h[(u[i]! & ABS_MASK) >>> LO_BITS]++;
  }

  /** Zeroed buffers for a piece of `len` positions of pass 2. */
  piece(len: number): { sum: Float32Array; open: Uint8Array } {
    const a = this.arena;
    if (this.k === null || a === null) return { sum: this.js.sum(len), open: new Uint8Array(this.js.flags(len).buffer, 0, len) };
    const sum = a.view(this.n + 2, len).fill(0);
    const open = new Uint8Array(sum.buffer, a.view(this.n + 3, 0).byteOffset, len).fill(0);
    return { sum, open };
  }

  /**
   * Pass 2, task t: the histogram of the low bits of |τ| inside bin `b`; `sum` gets the entries known to
   * be kept (above the bin), `open` marks the positions with an entry in the bin.
   */
  countLow(t: number, x: Float32Array, b: number, sum: Float32Array, open: Uint8Array): void {
    const h = this.lo[t]!;
    if (this.k !== null) return this.k.histLowSum(this.stage(x).byteOffset, x.length, b, h.byteOffset, sum.byteOffset, open.byteOffset);
    const u = bitsOf(x);
    for (let i = 0; i < x.length; i++) {
      const a = u[i]! & ABS_MASK;
      const hb = a >>> LO_BITS;
      if (hb === b) h[a & LO_MASK]++;
      sum[i] = sum[i]! + x[i]! * +(hb > b);
      open[i] = open[i]! | +(hb === b);
    }
  }

  /** Σ of the elected signs of the decided positions (open 0); the others' τ values go to `undecided`. */
  balance(sum: Float32Array, open: Uint8Array, models: Float32Array[], undecided: UndecidedStore): number {
    let balance = 0;
    if (this.k !== null) balance = this.k.decidedBalance(sum.byteOffset, open.byteOffset, sum.length);
    else {
      for (let i = 0; i < sum.length; i++) {
        const s = sum[i]!;
        balance += +(open[i] === 0) * (+(s > 0) - +(s < 0));
      }
    }
    // open positions are rare (an entry inside its task's threshold bin): found by the native scan
    for (let i = open.indexOf(1); i !== -1; i = open.indexOf(1, i + 1)) undecided.add(models, i);
    return balance;
  }
}

/** The thresholds and the majority sign of a TIES merge. */
export interface TiesPlan {
  /** Per task, the float32 bit pattern of the k-th smallest |τ|; entries whose |τ| bits are ≥ it are kept. */
  readonly thresholds: Uint32Array;
  /** The sign of the sum of every element's elected sign, or null when it was not counted. */
  readonly majority: number | null;
}

/**
 * Per task, the threshold (see TiesPlan), and the majority sign where it can be counted on the way.
 * 0 keeps everything (k ≤ 0, which makes torch's kthvalue fail: keeping all is what K = 1 evidently asks for).
 * `undecidedBudget`: bytes of τ values pass 2 may keep for the majority sign.
 */
export function planTies(reader: TaskVectorReader, fraction: number, undecidedBudget = UNDECIDED_BUDGET): TiesPlan {
  const n = reader.tasks;
  let d = 0;
  for (const name of reader.names) d += reader.numel(name);
  const k = d - Math.trunc(d * fraction);
  const thresholds = new Uint32Array(n);
  if (k <= 0 || d === 0) return { thresholds, majority: null };

  // Pass 1.
  const counts = new Histograms(n, d);
  const hi = counts.hi;
  const scratch = reader.scratch ?? new Scratch();
  for (const name of reader.names) {
    eachPiece(reader, name, scratch, (base, models) => {
      for (let t = 0; t < n; t++) {
        subInPlace(models[t]!, base);
        counts.countHigh(t, models[t]!);
      }
    });
  }
  const bin = new Int32Array(n);
  const rank = new Float64Array(n); // k within the chosen bin
  for (let t = 0; t < n; t++) {
    let cum = 0;
    const h = hi[t]!;
    let b = 0;
    while (cum + h[b]! < k) cum += h[b++]!;
    bin[t] = b;
    rank[t] = k - cum;
  }

  // Pass 2.
  const lo = counts.lo;
  const counting = n < 16; // the sequential float32 sum below is torch's below 16 rows
  const undecided = new UndecidedStore(n, undecidedBudget);
  let balance = 0;
  for (const name of reader.names) {
    eachPiece(reader, name, scratch, (base, models) => {
      // open: some entry lies in its task's bin, so whether it is kept is not known yet
      const { sum, open } = counts.piece(base.length);
      for (let t = 0; t < n; t++) {
        subInPlace(models[t]!, base);
        counts.countLow(t, models[t]!, bin[t]!, sum, open);
      }
      if (counting) balance += counts.balance(sum, open, models, undecided);
    });
  }
  for (let t = 0; t < n; t++) {
    let cum = 0;
    const h = lo[t]!;
    let l = 0;
    while (cum + h[l]! < rank[t]!) cum += h[l++]!;
    thresholds[t] = ((bin[t]! << LO_BITS) | l) >>> 0;
  }
  if (!counting || undecided.overflowed) return { thresholds, majority: null };
  balance += undecided.balance(thresholds);
  return { thresholds, majority: Math.sign(balance) };
}

/** τ values of the positions whose elected sign pass 2 could not know yet, in blocks. */
class UndecidedStore {
  private readonly blocks: Float32Array[] = [];
  private used = 0;
  private bytes = 0;
  overflowed = false;
  private static readonly BLOCK = 1 << 16;

  constructor(private readonly n: number, private readonly budget: number) {}

  add(models: Float32Array[], i: number): void {
    if (this.overflowed) return;
    const n = this.n;
    let block = this.blocks.at(-1);
    if (block === undefined || this.used + n > block.length) {
      if (this.bytes + UndecidedStore.BLOCK * n * 4 > this.budget) {
        this.overflowed = true;
        this.blocks.length = 0;
        return;
      }
      block = new Float32Array(UndecidedStore.BLOCK * n);
      this.bytes += block.byteLength;
      this.blocks.push(block);
      this.used = 0;
    }
    for (let t = 0; t < n; t++) block[this.used + t] = models[t]![i]!;
    this.used += n;
  }

  /** Σ of the elected signs of the stored positions, trimmed by `thresholds`. */
  balance(thresholds: Uint32Array): number {
    const n = this.n;
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let balance = 0;
    this.blocks.forEach((block, j) => {
      const end = j === this.blocks.length - 1 ? this.used : block.length;
      for (let p = 0; p < end; p += n) {
        let s = 0;
        for (let t = 0; t < n; t++) {
          f[0] = block[p + t]!;
          s = Math.fround(s + f[0]! * +((bits[0]! & ABS_MASK) >= thresholds[t]!));
        }
        balance += +(s > 0) - +(s < 0);
      }
    });
    return balance;
  }
}

/** The thresholds alone (see planTies). */
export function trimThresholds(reader: TaskVectorReader, fraction: number): Uint32Array {
  return planTies(reader, fraction).thresholds;
}

/** Zeroes, in place, the entries of each task vector below its task's threshold. */
export function trim(tvs: Float32Array[], thresholds: Uint32Array): void {
  for (let t = 0; t < tvs.length; t++) {
    const thr = thresholds[t]!;
    if (thr === 0) continue;
    const tv = tvs[t]!;
    const bits = bitsOf(tv);
    // torch's M * mask; a multiply, not a branch: which entries survive is unpredictable.
    for (let i = 0; i < tv.length; i++) tv[i] = tv[i]! * +((bits[i]! & ABS_MASK) >= thr);
  }
}

export class TiesMerger {
  private majority: number | null;
  private readonly thresholds: Uint32Array;
  private readonly vals: Float32Array;
  private readonly kept: Float32Array;
  private readonly bufs = new Buffers();

  constructor(private readonly reader: TaskVectorReader, plan: TiesPlan, private readonly mergeFunc: TiesMergeFunc) {
    this.thresholds = plan.thresholds;
    this.majority = plan.majority;
    this.vals = new Float32Array(reader.tasks);
    this.kept = new Float32Array(reader.tasks);
  }

  /**
   * The sign of the sum of every element's elected sign: how zero signs are resolved. A pass of its own
   * over the inputs, when the threshold passes could not count it (too many undecided positions: inputs
   * stored in half precision give many equal τ values in the threshold bins). Its own buffers (it runs
   * inside a merge that holds the merge's), in an arena of their own so that the pieces are summed by the
   * SIMD kernels; the slots are the merge runner's numbering: θ₀ 0, the models 1…n, the work slots n+1
   * and n+2, then the sum and the (all-zero) open flags that decidedBalance reads.
   */
  majoritySign(): number {
    if (this.majority === null) {
      const n = this.reader.tasks;
      const vals = new Float32Array(n); // not this.vals: merge() is using it when it asks
      let largest = 0;
      for (const name of this.reader.names) largest = Math.max(largest, this.reader.numel(name));
      const scratch = new Scratch({ slots: n + 5, numel: largest });
      let balance = 0;
      for (const name of this.reader.names) {
        eachPiece(this.reader, name, scratch, (base, models) => {
          const len = base.length;
          if (n < 16) {
            const sum = scratch.buffer(n + 3, len).fill(0);
            for (let t = 0; t < n; t++) subTrimAdd(models[t]!, base, this.thresholds[t]!, sum);
            balance += signBalance(sum, scratch.buffer(n + 4, len));
            return;
          }
          const tvs = taskVectors(base, models);
          trim(tvs, this.thresholds);
          for (let i = 0; i < len; i++) {
            for (let t = 0; t < n; t++) vals[t] = tvs[t]![i]!;
            const s = torchColumnSum(vals, n);
            if (s > 0) balance++;
            else if (s < 0) balance--;
          }
        });
      }
      this.majority = Math.sign(balance);
    }
    return this.majority;
  }

  /**
   * The merged (unscaled) task vector of one tensor, from `models[t] − base` (the models overwritten);
   * into `out` when given (its first numel values), else fresh memory. `work`: a buffer of numel floats
   * for the sums (the runner's, beside the inputs), else one of the merger's own.
   */
  merge(base: Float32Array, models: Float32Array[], out?: Float32Array, work?: Float32Array): Float32Array {
    const len = base.length;
    const res = out === undefined ? new Float32Array(len) : out.subarray(0, len);
    return this.mergeInto(base, models, res, work === undefined ? this.bufs.sum(len) : work.subarray(0, len));
  }

  /**
   * The same over consecutive pieces of `len` values: `read(start, end)` gives that piece of θ₀ and
   * of the models (fewer than 16 tasks: every position is merged on its own, so pieces change nothing).
   */
  mergeInPieces(len: number, piece: number, read: (start: number, end: number) => { base: Float32Array; models: Float32Array[] }, out?: Float32Array, work?: Float32Array): Float32Array {
    const res = out === undefined ? new Float32Array(len) : out.subarray(0, len);
    const sum = work === undefined ? this.bufs.sum(len) : work.subarray(0, len);
    for (let s = 0; s < len; s += piece) {
      const e = Math.min(len, s + piece);
      const { base, models } = read(s, e);
      this.mergeInto(base, models, res.subarray(s, e), sum.subarray(0, e - s)); // the sums' piece reused
    }
    return res;
  }

  private mergeInto(base: Float32Array, models: Float32Array[], res: Float32Array, sum: Float32Array): Float32Array {
    const n = models.length;
    res.fill(0);
    if (n < 16) {
      sum.fill(0);
      const thr = this.thresholds;
      for (let t = 0; t < n; t++) subTrimAdd(models[t]!, base, thr[t]!, sum);
      if (this.mergeFew(models, sum, res)) return res;
    } else {
      trim(taskVectors(base, models), this.thresholds);
    }
    return this.mergeGeneral(models, res);
  }

  private mergeGeneral(tvs: Float32Array[], out: Float32Array): Float32Array {
    const n = tvs.length;
    const len = out.length;
    const vals = this.vals;
    const kept = this.kept;
    const func = this.mergeFunc;
    for (let i = 0; i < len; i++) {
      let any = false;
      for (let t = 0; t < n; t++) {
        const v = tvs[t]![i]!;
        vals[t] = v;
        if (v !== 0) any = true;
      }
      if (!any) continue; // every task trimmed here: 0 whatever the sign
      const s = torchColumnSum(vals, n);
      const sign = s > 0 ? 1 : s < 0 ? -1 : this.majoritySign();
      let count = 0;
      let maxAbs = 0;
      for (let t = 0; t < n; t++) {
        const v = vals[t]!;
        const keep = sign > 0 ? v > 0 : v < 0; // torch.where(sign > 0, v > 0, v < 0)
        kept[t] = keep ? v : 0;
        if (keep) {
          count++;
          if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
        }
      }
      if (func === 'max') out[i] = maxAbs * sign;
      else {
        const sum = torchColumnSum(kept, n);
        out[i] = func === 'mean' ? sum / Math.max(count, 1) : sum;
      }
    }
    return out;
  }

  /**
   * The same for fewer than 16 tasks, where torch's column sum is a plain sequential float32 sum (`sum`,
   * of the trimmed `tvs`): done a task at a time over whole arrays (adding the zeros of unselected entries
   * changes nothing, so summing only the selected ones in task order gives the same float32 result).
   * False (out untouched) where a zero majority sign needs the general path.
   */
  private mergeFew(tvs: Float32Array[], sum: Float32Array, out: Float32Array): boolean {
    const n = tvs.length;
    const len = out.length;
    // Branch-free loops (comparisons as 0/1 numbers): signs and survivors are random, so branches
    // would mostly mispredict. The elected sign replaces the sum in place.
    const sign = sum;
    // A known non-zero majority is the sign of every zero sum (where all entries are zero too, the result
    // is 0 whatever the sign), so it is filled in on the way.
    const known = this.majority !== null && this.majority !== 0 ? this.majority : 0;
    const zeros = signInPlace(sign, known);
    if (zeros > 0 && known === 0) {
      // The majority is not counted yet (or is 0): it is needed only where some entry of a zero sum is not zero.
      let needed = 0;
      for (let t = 0; t < n && needed === 0; t++) {
        const tv = tvs[t]!;
        for (let i = 0; i < len; i++) needed += +(sign[i] === 0) & +(tv[i] !== 0);
      }
      if (needed > 0) {
        const m = this.majoritySign();
        // A zero majority leaves zero signs, which select the negative entries: the general path does that.
        if (m === 0) return false;
        for (let i = 0; i < len; i++) if (sign[i] === 0) sign[i] = m;
      }
    }
    if (this.mergeFunc === 'max') {
      for (let t = 0; t < n; t++) {
        const tv = tvs[t]!;
        for (let i = 0; i < len; i++) {
          const v = tv[i]!;
          out[i] = Math.max(out[i]!, Math.abs(v) * +(sign[i]! * v > 0));
        }
      }
      for (let i = 0; i < len; i++) out[i] = out[i]! * sign[i]!;
      return true;
    }
    const count = this.mergeFunc === 'mean' ? this.bufs.flags(len) : null;
    for (let t = 0; t < n; t++) {
      const tv = tvs[t]!;
      if (count === null) addAgreeing(out, tv, sign);
      else {
        for (let i = 0; i < len; i++) {
          const keep = +(sign[i]! * tv[i]! > 0);
          out[i] = out[i]! + tv[i]! * keep;
          count[i] += keep;
        }
      }
    }
    if (count !== null) for (let i = 0; i < len; i++) out[i] = out[i]! / Math.max(count[i]!, 1);
    return true;
  }
}

/** x ← trimmed (x − b); sum += x. */
function subTrimAdd(x: Float32Array, b: Float32Array, thr: number, sum: Float32Array): void {
  const k = kernelsFor(x, b, sum);
  if (k !== null) return k.subTrimAdd(x.byteOffset, b.byteOffset, thr, sum.byteOffset, x.length);
  subInPlace(x, b);
  const u = bitsOf(x);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]! * +((u[i]! & ABS_MASK) >= thr);
    x[i] = v;
    sum[i] = sum[i]! + v;
  }
}

/** s ← sign(s) (−1, 1; `fill` where s is 0 or NaN); returns how many were 0 or NaN. */
function signInPlace(s: Float32Array, fill = 0): number {
  const k = kernelsFor(s);
  if (k !== null) return k.signInPlace(s.byteOffset, s.length, fill);
  let zeros = 0;
  for (let i = 0; i < s.length; i++) {
    const x = s[i]!;
    const v = +(x > 0) - +(x < 0);
    s[i] = v === 0 ? fill : v;
    zeros += +(v === 0);
  }
  return zeros;
}

/** out += v where sign·v > 0. */
function addAgreeing(out: Float32Array, tv: Float32Array, sign: Float32Array): void {
  const k = kernelsFor(out, tv, sign);
  if (k !== null) return k.addAgreeing(out.byteOffset, tv.byteOffset, sign.byteOffset, out.length);
  for (let i = 0; i < out.length; i++) {
    const v = tv[i]!;
    out[i] = out[i]! + v * +(sign[i]! * v > 0);
  }
}

/** Σ sign(sum[i]); `flags` (as many floats, in sum's arena or not) is zeroed as decidedBalance's open bytes. */
function signBalance(sum: Float32Array, flags: Float32Array): number {
  const k = kernelsFor(sum, flags);
  if (k !== null) {
    new Uint8Array(flags.buffer, flags.byteOffset, sum.length).fill(0);
    return k.decidedBalance(sum.byteOffset, flags.byteOffset, sum.length);
  }
  let balance = 0;
  for (let i = 0; i < sum.length; i++) balance += +(sum[i]! > 0) - +(sum[i]! < 0);
  return balance;
}

/** models[t] ← models[t] − base, in place; returns them. */
function taskVectors(base: Float32Array, models: Float32Array[]): Float32Array[] {
  for (const x of models) subInPlace(x, base);
  return models;
}
