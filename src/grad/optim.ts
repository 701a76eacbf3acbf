/**
 * torch.optim.Adam / AdamW (torch 1.13, single-tensor path) and CosineAnnealingLR over Float32Array
 * parameters. Every float32 operation is rounded where torch's CPU kernels round (Math.fround after
 * each op); the scalars torch computes in Python (bias corrections, step size) stay in double.
 */

export interface AdamOptions {
  readonly lr: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  /** Adam: L2 added to the gradient; AdamW: decoupled decay. Defaults as torch: 0 (Adam), 1e-2 (AdamW). */
  readonly weightDecay?: number;
}

const f = Math.fround;

interface Slot {
  readonly expAvg: Float32Array;
  readonly expAvgSq: Float32Array;
}

export class Adam {
  /** The learning rate of the next step (a scheduler changes it, as torch's param_group['lr']). */
  lr: number;
  private steps = 0;
  private readonly slots = new Map<string, Slot>();
  protected readonly beta1: number;
  protected readonly beta2: number;
  protected readonly eps: number;
  readonly weightDecay: number;

  constructor(opts: AdamOptions, defaultDecay = 0) {
    this.lr = opts.lr;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
    if (!(this.lr >= 0)) throw new RangeError(`Invalid learning rate: ${this.lr}`);
    if (!(this.eps >= 0)) throw new RangeError(`Invalid epsilon value: ${this.eps}`);
    for (const b of [this.beta1, this.beta2]) if (!(b >= 0 && b < 1)) throw new RangeError(`Invalid beta parameter: ${b}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`Invalid weight_decay value: ${this.weightDecay}`);
  }

  /** Steps taken so far (torch's state['step']). */
  get stepCount(): number {
    return this.steps;
  }

  /** The optimizer state of one parameter (exp_avg, exp_avg_sq), e.g. for checkpoints. */
  state(key: string): Slot | undefined {
    return this.slots.get(key);
  }

  /** Restores a parameter's state and the step count (resuming from a checkpoint). */
  restore(step: number, slots: ReadonlyMap<string, Slot>): void {
    this.steps = step;
    for (const [k, s] of slots) this.slots.set(k, s);
  }

  /** Decoupled weight decay before the moments (AdamW); nothing for Adam. */
  protected decay(_param: Float32Array): void {}

  /** The L2 coefficient added to gradients (Adam), as float32; 0 for AdamW. */
  protected l2(): number {
    return f(this.weightDecay);
  }

  /** One step over every parameter with a gradient (params are updated in place). */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>): void {
    this.steps++;
    const step = this.steps;
    const bc1 = 1 - this.beta1 ** step;
    const bc2 = 1 - this.beta2 ** step;
    const stepSize = this.lr / bc1;
    const negStep = f(-stepSize);
    const bc2Sqrt = f(Math.sqrt(bc2));
    const b1 = f(this.beta1);
    const b2 = f(this.beta2);
    const c1 = f(1 - this.beta1);
    const c2 = f(1 - this.beta2);
    const eps = f(this.eps);
    const l2 = this.l2();
    for (const [key, grad] of grads) {
      const p = params.get(key);
      if (!p) throw new Error(`optimizer: no parameter ${key}`);
      if (p.length !== grad.length) throw new Error(`optimizer: ${key} has ${p.length} values, its gradient ${grad.length}`);
      let slot = this.slots.get(key);
      if (!slot) this.slots.set(key, (slot = { expAvg: new Float32Array(p.length), expAvgSq: new Float32Array(p.length) }));
      this.decay(p);
      const m = slot.expAvg;
      const v = slot.expAvgSq;
      for (let i = 0; i < p.length; i++) {
        // grad.add(param, alpha=wd) and exp_avg.add_(grad, alpha=1-β1) are fused multiply-adds in torch's
        // vectorised CPU kernels: one rounding of the exact a + α·b (exact in double for float32 inputs).
        const gi = l2 === 0 ? grad[i]! : f(grad[i]! + l2 * p[i]!);
        const mi = f(f(m[i]! * b1) + c1 * gi);
        // addcmul_: self + (value · t1) · t2, each product rounded.
        const vi = f(f(v[i]! * b2) + f(f(c2 * gi) * gi));
        m[i] = mi;
        v[i] = vi;
        const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + eps);
        // addcdiv_: self + (value · t1) / t2.
        p[i] = f(p[i]! + f(f(negStep * mi) / denom));
      }
    }
  }
}

export class AdamW extends Adam {
  constructor(opts: AdamOptions) {
    super(opts, 1e-2);
  }

  protected override l2(): number {
    return 0;
  }

  protected override decay(param: Float32Array): void {
    if (this.weightDecay === 0) return;
    const s = f(1 - this.lr * this.weightDecay);
    for (let i = 0; i < param.length; i++) param[i] = f(param[i]! * s);
  }
}

/**
 * torch.optim.lr_scheduler.CosineAnnealingLR with its recursive update (what `step()` computes, which
 * drifts from the closed form by double rounding only). `lr` is the rate for the next optimizer step.
 */
export class CosineAnnealingLR {
  private lastEpoch = 0;
  private current: number;

  constructor(private readonly baseLr: number, private readonly tMax: number, private readonly etaMin = 0) {
    if (!(tMax > 0)) throw new RangeError(`CosineAnnealingLR: T_max must be positive, got ${tMax}`);
    this.current = baseLr;
  }

  get lr(): number {
    return this.current;
  }

  get epoch(): number {
    return this.lastEpoch;
  }

  /** Advances one epoch/step and returns the new rate. */
  step(): number {
    this.lastEpoch++;
    const e = this.lastEpoch;
    const T = this.tMax;
    const lr = this.current;
    const period = 2 * T;
    if ((((e - 1 - T) % period) + period) % period === 0) {
      this.current = lr + (this.baseLr - this.etaMin) * (1 - Math.cos(Math.PI / T)) / 2;
    } else {
      this.current = (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (lr - this.etaMin) + this.etaMin;
    }
    return this.current;
  }
}
