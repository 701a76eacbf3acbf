/**
 * CLIP's contrastive head on embeddings held as row-major [rows, dim] float32 arrays: L2 normalisation
 * (x / ||x||, as `embeds / embeds.norm(dim=-1, keepdim=True)`) and scaled cosine logits.
 */

/** A copy of each row divided by its L2 norm (accumulated in float64). */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += dim) {
    let s = 0;
    for (let i = r; i < r + dim; i++) s += x[i]! * x[i]!;
    const norm = Math.fround(Math.sqrt(s));
    for (let i = r; i < r + dim; i++) out[i] = x[i]! / norm;
  }
  return out;
}

/** exp(logitScale) · a @ bᵀ: [aRows, bRows] (logits_per_image when a = image embeds, b = text embeds). */
export function clipLogits(a: Float32Array, b: Float32Array, dim: number, logitScale: number): Float32Array {
  const n = a.length / dim;
  const m = b.length / dim;
  const scale = Math.fround(Math.exp(logitScale));
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += a[i * dim + k]! * b[j * dim + k]!;
      out[i * m + j] = scale * Math.fround(s);
    }
  }
  return out;
}
