/**
 * TIES merging over a model streamed tensor by tensor (fusion_bench's `ties_merging_utils`, which works on
 * one flat vector of every parameter):
 *
 * 1. trim: per task, keep the entries with |τ| ≥ the k-th smallest |τ| over the whole model
 *    (k = d − int(d·K)); ties at the threshold are all kept, as `kthvalue` + `>=` does;
 * 2. elect: sign of the float32 sum over tasks, zeros replaced by the sign of the sum of all signs;
 * 3. disjoint merge of the entries agreeing with the elected sign: sum, mean of non-zeros, or max |·|.
 *
 * The threshold is found exactly without holding the model: a radix select over the float32 bit
 * patterns of |τ| (two histogram passes, high then low 16 bits). The majority sign needs the trimmed
 * model too, so it is computed in an extra pass only when some element's elected sign is zero.
 */
import { torchColumnSum } from './f32.js';
import { Scratch } from './sources.js';

export type TiesMergeFunc = 'sum' | 'mean' | 'max';

/**
 * The task vectors of one tensor, one array per task that the caller may modify, with the base tensor
 * they were taken from; fresh arrays, or the slots of `scratch` when given.
 */
export interface TaskVectorReader {
  readonly tasks: number;
  /** The tensors taking part, in any order. */
  readonly names: readonly string[];
  numel(name: string): number;
  read(name: string, scratch?: Scratch): { base: Float32Array; tvs: Float32Array[] };
}

/** fusion_bench's `topk_values_mask` reading of `threshold`: above 1 it is a percentage. */
export function keepFraction(threshold: number): number {
  return threshold > 1 ? threshold / 100 : threshold;
}

const ABS_MASK = 0x7fffffff;

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * Per task, the float32 bit pattern of the k-th smallest |τ| (1-based, k = d − int(d·K)); entries whose
 * |τ| bits are ≥ it are kept. 0 keeps everything (k ≤ 0, which makes torch's kthvalue fail: keeping all
 * is what K = 1 evidently asks for).
 */
export function trimThresholds(reader: TaskVectorReader, fraction: number): Uint32Array {
  const n = reader.tasks;
  let d = 0;
  for (const name of reader.names) d += reader.numel(name);
  const k = d - Math.trunc(d * fraction);
  const out = new Uint32Array(n);
  if (k <= 0 || d === 0) return out;

  // Pass 1: histogram of the high 16 bits (the sign bit is cleared, so 2^15 bins).
  const hi = Array.from({ length: n }, () => new Float64Array(1 << 15));
  const scratch = new Scratch();
  for (const name of reader.names) {
    const { tvs } = reader.read(name, scratch);
    for (let t = 0; t < n; t++) {
      const bits = bitsOf(tvs[t]!);
      const h = hi[t]!;
      for (let i = 0; i < bits.length; i++) h[(bits[i]! & ABS_MASK) >>> 16]++;
    }
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

  // Pass 2: histogram of the low 16 bits inside each task's bin.
  const lo = Array.from({ length: n }, () => new Float64Array(1 << 16));
  for (const name of reader.names) {
    const { tvs } = reader.read(name, scratch);
    for (let t = 0; t < n; t++) {
      const bits = bitsOf(tvs[t]!);
      const h = lo[t]!;
      const b = bin[t]!;
      for (let i = 0; i < bits.length; i++) {
        const u = bits[i]! & ABS_MASK;
        if (u >>> 16 === b) h[u & 0xffff]++;
      }
    }
  }
  for (let t = 0; t < n; t++) {
    let cum = 0;
    const h = lo[t]!;
    let l = 0;
    while (cum + h[l]! < rank[t]!) cum += h[l++]!;
    out[t] = ((bin[t]! << 16) | l) >>> 0;
  }
  return out;
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
  private majority: number | null = null;
  private readonly vals: Float32Array;
  private readonly kept: Float32Array;

  constructor(private readonly reader: TaskVectorReader, private readonly thresholds: Uint32Array, private readonly mergeFunc: TiesMergeFunc) {
    this.vals = new Float32Array(reader.tasks);
    this.kept = new Float32Array(reader.tasks);
  }

  /** The sign of the sum of every element's elected sign: how zero signs are resolved. */
  majoritySign(): number {
    if (this.majority === null) {
      const n = this.reader.tasks;
      const vals = new Float32Array(n); // not this.vals: merge() is using it when it asks
      let balance = 0;
      const scratch = new Scratch(); // its own: this runs inside a merge that holds the merge's buffers
      for (const name of this.reader.names) {
        const { tvs } = this.reader.read(name, scratch);
        trim(tvs, this.thresholds);
        const len = tvs[0]?.length ?? 0;
        if (n < 16) {
          const sum = sequentialSum(tvs);
          for (let i = 0; i < len; i++) balance += +(sum[i]! > 0) - +(sum[i]! < 0);
          continue;
        }
        for (let i = 0; i < len; i++) {
          for (let t = 0; t < n; t++) vals[t] = tvs[t]![i]!;
          const s = torchColumnSum(vals, n);
          if (s > 0) balance++;
          else if (s < 0) balance--;
        }
      }
      this.majority = Math.sign(balance);
    }
    return this.majority;
  }

  /** The merged (unscaled) task vector of one tensor; trims `tvs` in place. */
  merge(tvs: Float32Array[]): Float32Array {
    trim(tvs, this.thresholds);
    const n = tvs.length;
    const len = tvs[0]!.length;
    const out = new Float32Array(len);
    const vals = this.vals;
    const kept = this.kept;
    const func = this.mergeFunc;
    if (n < 16 && this.mergeFew(tvs, out)) return out;
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
   * The same for fewer than 16 tasks, where torch's column sum is a plain sequential float32 sum: done
   * a task at a time over whole arrays (adding the zeros of unselected entries changes nothing, so
   * summing only the selected ones in task order gives the same float32 result).
   */
  private mergeFew(tvs: Float32Array[], out: Float32Array): boolean {
    const n = tvs.length;
    const len = out.length;
    const sum = sequentialSum(tvs);
    // The loops below are branch-free (comparisons as 0/1 numbers): signs and survivors are random, so
    // branches would mostly mispredict.
    const sign = new Int8Array(len);
    let zeros = 0;
    for (let i = 0; i < len; i++) {
      const x = sum[i]!;
      sign[i] = +(x > 0) - +(x < 0);
      zeros += +(x === 0);
    }
    if (zeros > 0) {
      // A zero sum needs the majority sign, unless every entry there is zero (then the result is 0).
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
    // Branch-free selection (signs are random, branches would mispredict): sign·v > 0 keeps v.
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
    const count = this.mergeFunc === 'mean' ? new Uint8Array(len) : null;
    for (let t = 0; t < n; t++) {
      const tv = tvs[t]!;
      for (let i = 0; i < len; i++) {
        const v = tv[i]!;
        out[i] = out[i]! + v * +(sign[i]! * v > 0);
      }
      if (count !== null) for (let i = 0; i < len; i++) count[i] += +(sign[i]! * tv[i]! > 0);
    }
    if (count !== null) for (let i = 0; i < len; i++) out[i] = out[i]! / Math.max(count[i]!, 1);
    return true;
  }
}

/** Σₜ tvs[t] in task order, float32 (torch's column sum below 16 rows). */
function sequentialSum(tvs: Float32Array[]): Float32Array {
  const sum = new Float32Array(tvs[0]!.length);
  for (const tv of tvs) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + tv[i]!;
  return sum;
}
