/**
 * The pure parts of bench/compare: finding the reference's interpreter, fusion_bench's source, the
 * allocators and OpenBLAS, building each side's environment, and the shape of one measurement in the
 * JSON. Everything that touches the machine is passed in (`probe`, `exists`), so it is unit-tested
 * without spawning anything.
 */

/** Why something was not measured (printed as `"not measured: <reason>"`). */
export interface NotMeasured {
  readonly notMeasured: string;
}
export const isNotMeasured = (x: unknown): x is NotMeasured => typeof x === 'object' && x !== null && 'notMeasured' in x;
export const notMeasuredText = (n: NotMeasured): string => `not measured: ${n.notMeasured}`;

/** What `python -c "import torch; print(torch.__version__)"` gave: the version, or the error text. */
export type ProbeResult = { ok: true; version: string } | { ok: false; error: string };

export interface TorchPython {
  readonly python: string;
  /** Where the candidate came from: the flag, FUSION_BENCH_PYTHON, or the built-in list. */
  readonly source: string;
  readonly torch: string;
}

/**
 * Candidates in order: `--python`, then FUSION_BENCH_PYTHON, then Debian's /usr/bin/python3 (where
 * python3-torch installs; a pyenv `python3` earlier on PATH has no torch), then `python3`.
 */
export function pythonCandidates(flag: string | undefined, env: NodeJS.ProcessEnv): { python: string; source: string }[] {
  const out: { python: string; source: string }[] = [];
  if (flag) out.push({ python: flag, source: '--python' });
  if (env.FUSION_BENCH_PYTHON) out.push({ python: env.FUSION_BENCH_PYTHON, source: 'FUSION_BENCH_PYTHON' });
  out.push({ python: '/usr/bin/python3', source: 'default' }, { python: 'python3', source: 'default' });
  return out;
}

/**
 * The first candidate that imports torch. An explicitly named interpreter (flag or environment) that
 * fails is not silently replaced by a default one: the reason names it.
 */
export function findTorchPython(candidates: readonly { python: string; source: string }[], probe: (python: string) => ProbeResult): TorchPython | NotMeasured {
  const reasons: string[] = [];
  for (const c of candidates) {
    const r = probe(c.python);
    if (r.ok) return { python: c.python, source: c.source, torch: r.version };
    const why = `${c.python} (${c.source}): ${firstLine(r.error)}`;
    if (c.source !== 'default') return { notMeasured: `no torch in ${why}` };
    reasons.push(why);
  }
  return { notMeasured: `no Python interpreter that imports torch (tried ${reasons.join('; ')}); set FUSION_BENCH_PYTHON` };
}

function firstLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.length === 0 ? 'failed' : lines[lines.length - 1]!.trim();
}

/** fusion_bench's checkout: `--fb-src`, else FUSION_BENCH_SRC; it must hold fusion_bench/method. */
export function fusionBenchSource(flag: string | undefined, env: NodeJS.ProcessEnv, exists: (p: string) => boolean): string | NotMeasured {
  const given = flag || env.FUSION_BENCH_SRC;
  if (!given) return { notMeasured: "fusion_bench's source not given (--fb-src DIR or FUSION_BENCH_SRC=DIR, a checkout of github.com/tanganke/fusion_bench)" };
  if (!exists(`${given}/fusion_bench/method/task_arithmetic/task_arithmetic.py`)) return { notMeasured: `${given} is not a fusion_bench checkout (no fusion_bench/method/task_arithmetic/task_arithmetic.py)` };
  return given;
}

export type Allocator = 'default' | 'jemalloc' | 'tcmalloc';
export type Blas = 'system' | 'openblas';
export const ALLOCATORS: readonly Allocator[] = ['default', 'jemalloc', 'tcmalloc'];

const LIBDIR = '/usr/lib/x86_64-linux-gnu';
/** Debian's file names (libjemalloc2, libtcmalloc-minimal4); FUSION_BENCH_JEMALLOC / _TCMALLOC override. */
export function allocatorLibrary(a: Allocator, env: NodeJS.ProcessEnv, exists: (p: string) => boolean): string | null | NotMeasured {
  if (a === 'default') return null;
  const path = a === 'jemalloc' ? env.FUSION_BENCH_JEMALLOC || `${LIBDIR}/libjemalloc.so.2` : env.FUSION_BENCH_TCMALLOC || `${LIBDIR}/libtcmalloc_minimal.so.4`;
  return exists(path) ? path : { notMeasured: `${a} not found at ${path} (Debian: apt-get install ${a === 'jemalloc' ? 'libjemalloc2' : 'libtcmalloc-minimal4'})` };
}

/**
 * OpenBLAS for the "tuned" torch: FUSION_BENCH_OPENBLAS_DIR (a folder holding libblas.so.3 and
 * liblapack.so.3, e.g. libopenblas0-pthread's openblas-pthread/), else Debian's installed one. Debian's
 * python3-torch calls whatever libblas.so.3 the alternatives pick; without OpenBLAS that is the
 * reference BLAS/LAPACK, ~10× slower in sgemm.
 */
export function openblasDir(env: NodeJS.ProcessEnv, exists: (p: string) => boolean): string | NotMeasured {
  for (const d of [env.FUSION_BENCH_OPENBLAS_DIR, `${LIBDIR}/openblas-pthread`]) {
    if (d && exists(`${d}/libblas.so.3`)) return d;
  }
  return { notMeasured: 'OpenBLAS not found (apt-get install libopenblas0-pthread, or FUSION_BENCH_OPENBLAS_DIR=DIR holding its libblas.so.3)' };
}

export interface Variant {
  readonly allocator: Allocator;
  /** Only for the torch side; ours links its own BLAS (onnxruntime's MLAS) and no LAPACK. */
  readonly blas?: Blas;
}
export const variantName = (v: Variant): string => [v.blas === undefined ? '' : `${v.blas}-blas`, `${v.allocator}-malloc`].filter(Boolean).join('+');

/**
 * The environment one child runs under: `threads` everywhere (OpenMP, OpenBLAS), the allocator
 * preloaded, OpenBLAS first on the library path. Returns the variables to add, or why it cannot run.
 */
export function variantEnv(v: Variant, threads: number, env: NodeJS.ProcessEnv, exists: (p: string) => boolean): Record<string, string> | NotMeasured {
  const out: Record<string, string> = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const lib = allocatorLibrary(v.allocator, env, exists);
  if (isNotMeasured(lib)) return lib;
  if (lib !== null) out.LD_PRELOAD = env.LD_PRELOAD ? `${lib}:${env.LD_PRELOAD}` : lib;
  if (v.blas === 'openblas') {
    const d = openblasDir(env, exists);
    if (isNotMeasured(d)) return d;
    out.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${d}:${env.LD_LIBRARY_PATH}` : d;
  }
  return out;
}

/** A command line as a shell would take it back, with the environment it ran under in front. */
export function commandLine(argv: readonly string[], env: Record<string, string> = {}): string {
  const q = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  return [...Object.entries(env).map(([k, v]) => `${k}=${q(v)}`), ...argv.map(q)].join(' ');
}

/**
 * `reference / ours` for times and memory (lower is better), `ours / reference` for rates: above 1 means
 * fusion-bench is ahead. Missing figures give the reason instead of a number.
 */
export function advantage(ours: number | NotMeasured | undefined, reference: number | NotMeasured | undefined, kind: 'time' | 'rate'): number | string {
  for (const x of [ours, reference]) {
    if (x === undefined) return 'not measured';
    if (isNotMeasured(x)) return notMeasuredText(x);
  }
  const o = ours as number, r = reference as number;
  if (!(o > 0) || !(r > 0)) return 'not measured: a figure is zero';
  return Number((kind === 'time' ? r / o : o / r).toFixed(3));
}

/** The median of the numbers (the lower middle for an even count); undefined for none. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export const PARTS = ['merge', 'clip', 'train', 'svd', 'regmean'] as const;
export type Part = (typeof PARTS)[number];

/** `--only clip,merge` → the parts, in the bench's fixed order; a clear error for an unknown name. */
export function parseOnly(only: string | undefined): Part[] {
  if (only === undefined || only.trim() === '') return [...PARTS];
  const asked = only.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = asked.filter((s) => !(PARTS as readonly string[]).includes(s));
  if (bad.length) throw new Error(`--only: unknown part(s) ${bad.join(', ')}; expected a comma-separated subset of ${PARTS.join(',')}`);
  return PARTS.filter((p) => asked.includes(p));
}
