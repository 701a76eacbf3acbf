/*
 * The hardware floor for merging (issue 13): the least work a merge of float32 (or float16 / bfloat16)
 * safetensors can do on one thread. Every input is read once per pass, in 1 MiB chunks, into buffers allocated once; the result is
 * written once. bench/merge-floor.ts builds this with `cc -O3 -march=native` and runs it beside fusion-bench.
 *
 * The models share one data layout (same tensor names and shapes, written by the same writer), so the
 * merged floats form one flat stream: the benchmark passes the file byte ranges of the floating tensors
 * in a text file ("begin end" per line, absolute file offsets, equal in every file). The output is the
 * merged values of those ranges, concatenated, as raw little-endian float32.
 *
 *   merge_floor [--dtype f32|f16|bf16] [--out-dtype f32|f16|bf16] [--atomic] ta   RANGES OUT LAMBDA           BASE FT1 ... FTn
 *   merge_floor [--dtype f32|f16|bf16] [--out-dtype f32|f16|bf16] [--atomic] ties RANGES OUT LAMBDA KEEP_FRAC BASE FT1 ... FTn
 *
 * Half-precision inputs are read into a staging buffer and widened to float32 as they arrive (F16C's
 * vcvtph2ps, eight at a time, where the CPU has it; a shift for bfloat16); the
 * arithmetic and the float32 output are the same as for float32 inputs (fusion_bench's rule for a CLIP
 * pool: the merged model is float32). --out-dtype f16|bf16 rounds the float32 results once, to nearest
 * even, as a pool with that torch_dtype saves them (F16C's vcvtps2ph; bfloat16 by integer rounding).
 *
 * Task arithmetic (one pass): out = θ0 + λ·Σk (θk − θ0), float32 in model order.
 * TIES, merge "sum" (three passes): two radix-select histogram passes over the float32 bit patterns of
 * |τ| give each task's exact k-th smallest magnitude (k = d − int(d·K), torch.kthvalue's rule); the
 * merge pass trims, elects the sign of the float32 sum, adds the agreeing entries, counts the majority
 * sign, and remembers the rare positions whose sum was 0 with some entry left; those are patched at the
 * end with the majority sign.
 */
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __F16C__
#include <immintrin.h>
#endif

#define CHUNK (1 << 18) /* floats: 1 MiB */
#define MAXM 64

static int nfiles;                 /* base + n fine-tuned */
static int fds[MAXM + 1];
static int64_t *rb, *re;           /* ranges */
static int nranges;
static int64_t total;              /* floats */
static float *buf[MAXM + 1];
static int esize = 4;              /* bytes per stored value: 4, or 2 for float16 / bfloat16 */
static int bf16;
static uint16_t *stage;            /* a chunk of half-precision values as read */
static int osize = 4, obf16;       /* the output's bytes per value, and whether bfloat16 */
static uint16_t *ostage;           /* a chunk of rounded output */
static int atomic;                 /* write a temporary file and rename it over the output */

static void die(const char *m) { fprintf(stderr, "merge_floor: %s\n", m); exit(2); }

static void rd_bytes(int f, void *dst, int64_t want, int64_t off) {
  char *p = (char *)dst;
  while (want > 0) {
    ssize_t got = pread(fds[f], p, want, off);
    if (got <= 0) die("short read");
    p += got; off += got; want -= got;
  }
}

/* exact, bit by bit (the tail, or all of it without F16C) */
static float f16_to_f32(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 0x3ff, u;
  if (e == 31) u = s | 0x7f800000u | (m << 13);
  else if (e != 0) u = s | ((e + 112) << 23) | (m << 13);
  else { float v = (float)m * 0x1p-24f; memcpy(&u, &v, 4); u |= s; }
  float r;
  memcpy(&r, &u, 4);
  return r;
}

/* n values of file f from byte offset off, as float32 */
static void rd(int f, float *dst, int64_t n, int64_t off) {
  if (esize == 4) { rd_bytes(f, dst, n * 4, off); return; }
  rd_bytes(f, stage, n * 2, off);
  if (bf16) {
    uint32_t *u = (uint32_t *)dst;
    for (int64_t i = 0; i < n; i++) u[i] = (uint32_t)stage[i] << 16;
  } else {
    int64_t i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(stage + i))));
#endif
    for (; i < n; i++) dst[i] = f16_to_f32(stage[i]);
  }
}

static uint16_t to_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

/* float32 → float16, to nearest even (exact, bit by bit; the tail, or all of it without F16C) */
static uint16_t to_f16(float x) {
  uint32_t f;
  memcpy(&f, &x, 4);
  uint32_t sign = (f >> 16) & 0x8000, exp = (f >> 23) & 0xff, mant = f & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(mant ? sign | 0x7e00 | (mant >> 13) : sign | 0x7c00);
  int e = (int)exp - 112;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  uint32_t h, rem, half;
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign;
    mant |= 0x800000;
    int shift = 14 - e;
    half = 1u << (shift - 1);
    rem = mant & ((1u << shift) - 1);
    h = mant >> shift;
  } else {
    half = 0x1000;
    rem = mant & 0x1fff;
    h = ((uint32_t)e << 10) | (mant >> 13);
  }
  if (rem > half || (rem == half && (h & 1))) h++;
  return (uint16_t)(sign | h);
}

/* n float32 values to the output's dtype; returns where the bytes are */
static const void *narrow(const float *src, int64_t n) {
  if (osize == 4) return src;
  int64_t i = 0;
  if (obf16) {
    for (; i < n; i++) ostage[i] = to_bf16(src[i]);
  } else {
#ifdef __F16C__
    for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(ostage + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; i++) ostage[i] = to_f16(src[i]);
  }
  return ostage;
}

static void wr(int fd, const float *values, int64_t n) {
  const char *p = (const char *)narrow(values, n);
  int64_t left = n * osize;
  while (left > 0) {
    ssize_t put = write(fd, p, left);
    if (put <= 0) die("short write");
    p += put; left -= put;
  }
}

/* Runs the body for every chunk of every range, in order, with n (floats), off (file offset), flat (index). */
#define FOR_CHUNKS(...)                                                         \
  do {                                                                          \
    int64_t flat_ = 0;                                                          \
    for (int r_ = 0; r_ < nranges; r_++) {                                      \
      for (int64_t o_ = rb[r_]; o_ < re[r_]; o_ += (int64_t)CHUNK * esize) {    \
        int64_t n = (re[r_] - o_) / esize < CHUNK ? (re[r_] - o_) / esize : CHUNK; \
        int64_t off = o_;                                                       \
        int64_t flat = flat_; (void)flat;                                                 \
        __VA_ARGS__;                                                            \
        flat_ += n;                                                             \
      }                                                                         \
    }                                                                           \
  } while (0)

static inline uint32_t bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }

static void task_arithmetic(int out, float lambda) {
  int n_ft = nfiles - 1;
  float *base = buf[0], *acc = buf[1], *x = buf[2];
  FOR_CHUNKS({
    rd(0, base, n, off);
    rd(1, acc, n, off);
    for (int64_t i = 0; i < n; i++) acc[i] = acc[i] - base[i];
    for (int k = 2; k <= n_ft; k++) {
      rd(k, x, n, off);
      for (int64_t i = 0; i < n; i++) acc[i] += x[i] - base[i];
    }
    for (int64_t i = 0; i < n; i++) acc[i] = base[i] + lambda * acc[i];
    wr(out, acc, n);
  });
}

static void ties(int out, float lambda, double keep) {
  int T = nfiles - 1;
  float *base = buf[0];
  int64_t k = total - (int64_t)(total * keep);
  uint32_t thr[MAXM];
  memset(thr, 0, sizeof thr);
  if (k > 0 && total > 0) {
    uint32_t *hi = calloc((size_t)T << 15, 4), *lo = calloc((size_t)T << 16, 4);
    int32_t bin[MAXM];
    int64_t rank[MAXM];
    FOR_CHUNKS({
      rd(0, base, n, off);
      for (int t = 0; t < T; t++) {
        float *x = buf[1];
        rd(t + 1, x, n, off);
        uint32_t *h = hi + ((size_t)t << 15);
        for (int64_t i = 0; i < n; i++) h[(bits(x[i] - base[i]) & 0x7fffffffu) >> 16]++;
      }
    });
    for (int t = 0; t < T; t++) {
      int64_t cum = 0; int b = 0; uint32_t *h = hi + ((size_t)t << 15);
      while (cum + h[b] < k) cum += h[b++];
      bin[t] = b; rank[t] = k - cum;
    }
    FOR_CHUNKS({
      rd(0, base, n, off);
      for (int t = 0; t < T; t++) {
        float *x = buf[1];
        rd(t + 1, x, n, off);
        uint32_t *h = lo + ((size_t)t << 16);
        uint32_t b = (uint32_t)bin[t];
        for (int64_t i = 0; i < n; i++) {
          uint32_t u = bits(x[i] - base[i]) & 0x7fffffffu;
          if ((u >> 16) == b) h[u & 0xffff]++;
        }
      }
    });
    for (int t = 0; t < T; t++) {
      int64_t cum = 0; int l = 0; uint32_t *h = lo + ((size_t)t << 16);
      while (cum + h[l] < rank[t]) cum += h[l++];
      thr[t] = ((uint32_t)bin[t] << 16) | (uint32_t)l;
    }
    free(hi); free(lo);
  }

  /* merge pass */
  int64_t balance = 0, npatch = 0, cap = 1024;
  int64_t *patch = malloc(cap * sizeof *patch);
  float *sum = buf[T + 1], *res = buf[T + 2];
  FOR_CHUNKS({
    rd(0, base, n, off);
    for (int t = 0; t < T; t++) {
      float *x = buf[t + 1];
      rd(t + 1, x, n, off);
      uint32_t th = thr[t];
      for (int64_t i = 0; i < n; i++) {
        float v = x[i] - base[i];
        x[i] = (bits(v) & 0x7fffffffu) >= th ? v : 0.0f;
      }
    }
    for (int64_t i = 0; i < n; i++) sum[i] = 0.0f;
    for (int t = 0; t < T; t++) for (int64_t i = 0; i < n; i++) sum[i] += buf[t + 1][i];
    for (int64_t i = 0; i < n; i++) res[i] = 0.0f;
    for (int t = 0; t < T; t++) {
      const float *x = buf[t + 1];
      for (int64_t i = 0; i < n; i++) {
        float s = sum[i], v = x[i];
        res[i] += ((s > 0 && v > 0) || (s < 0 && v < 0)) ? v : 0.0f;
      }
    }
    for (int64_t i = 0; i < n; i++) {
      float s = sum[i];
      balance += (s > 0) - (s < 0);
      if (s == 0.0f) {
        int any = 0;
        for (int t = 0; t < T; t++) any |= buf[t + 1][i] != 0.0f;
        if (any) {
          if (npatch == cap) patch = realloc(patch, (cap *= 2) * sizeof *patch);
          patch[npatch++] = flat + i;
        }
      }
      res[i] = base[i] + lambda * res[i];
    }
    wr(out, res, n);
  });

  /* patch the positions whose elected sign was 0: sign = majority */
  int m = (balance > 0) - (balance < 0);
  for (int64_t p = 0; p < npatch; p++) {
    int64_t flat = patch[p], off = 0, seen = 0;
    for (int r = 0; r < nranges; r++) {
      int64_t len = (re[r] - rb[r]) / esize;
      if (flat < seen + len) { off = rb[r] + (flat - seen) * esize; break; }
      seen += len;
    }
    float b0, acc = 0.0f;
    rd(0, &b0, 1, off);
    for (int t = 0; t < T; t++) {
      float x;
      rd(t + 1, &x, 1, off);
      float v = x - b0;
      if ((bits(v) & 0x7fffffffu) < thr[t]) v = 0.0f;
      if (m > 0 ? v > 0 : v < 0) acc += v;
    }
    float r = b0 + lambda * acc;
    if (pwrite(out, narrow(&r, 1), osize, flat * osize) != osize) die("patch write");
  }
  fprintf(stderr, "{\"patched\": %lld, \"majority\": %d}\n", (long long)npatch, m);
  free(patch);
}

int main(int argc, char **argv) {
  for (;;) {
    if (argc > 2 && strcmp(argv[1], "--dtype") == 0) {
      if (strcmp(argv[2], "f16") == 0) esize = 2;
      else if (strcmp(argv[2], "bf16") == 0) esize = 2, bf16 = 1;
      else if (strcmp(argv[2], "f32") != 0) die("--dtype: f32, f16 or bf16");
    } else if (argc > 2 && strcmp(argv[1], "--out-dtype") == 0) {
      if (strcmp(argv[2], "f16") == 0) osize = 2;
      else if (strcmp(argv[2], "bf16") == 0) osize = 2, obf16 = 1;
      else if (strcmp(argv[2], "f32") != 0) die("--out-dtype: f32, f16 or bf16");
    } else if (argc > 1 && strcmp(argv[1], "--atomic") == 0) {
      atomic = 1;
      argv += 1; argc -= 1;
      continue;
    } else break;
    argv += 2; argc -= 2;
  }
  if (argc < 6) die("usage: merge_floor [--dtype f32|f16|bf16] [--out-dtype f32|f16|bf16] [--atomic] ta|ties RANGES OUT LAMBDA [KEEP] BASE FT...");
  int isTies = strcmp(argv[1], "ties") == 0;
  float lambda = strtof(argv[4], NULL);
  double keep = isTies ? strtod(argv[5], NULL) : 0;
  int first = isTies ? 6 : 5;
  nfiles = argc - first;
  if (nfiles < 2 || nfiles > MAXM) die("need a base and 1..64 fine-tuned models");
  FILE *rf = fopen(argv[2], "r");
  if (!rf) die("cannot open ranges");
  int cap = 1024;
  rb = malloc(cap * sizeof *rb); re = malloc(cap * sizeof *re);
  long long a, b;
  while (fscanf(rf, "%lld %lld", &a, &b) == 2) {
    if (nranges == cap) { cap *= 2; rb = realloc(rb, cap * sizeof *rb); re = realloc(re, cap * sizeof *re); }
    rb[nranges] = a; re[nranges] = b; total += (b - a) / esize; nranges++;
  }
  fclose(rf);
  for (int f = 0; f < nfiles; f++) {
    fds[f] = open(argv[first + f], O_RDONLY);
    if (fds[f] < 0) die("cannot open an input");
  }
  for (int f = 0; f < nfiles + 2; f++) buf[f] = aligned_alloc(64, (size_t)CHUNK * 4);
  stage = aligned_alloc(64, (size_t)CHUNK * 2);
  ostage = aligned_alloc(64, (size_t)CHUNK * 2);
  /* --atomic: as fusion-bench saves (never a half-written output), into a temporary file renamed over
     the old output at the end; the new pages then cannot be the old output's, freed by O_TRUNC first */
  char tmp[4096];
  if (atomic && snprintf(tmp, sizeof tmp, "%s.tmp-floor", argv[3]) >= (int)sizeof tmp) die("output path too long");
  int out = open(atomic ? tmp : argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) die("cannot open the output");
  if (isTies) ties(out, lambda, keep); else task_arithmetic(out, lambda);
  close(out);
  if (atomic && rename(tmp, argv[3]) != 0) die("cannot rename the output");
  return 0;
}
