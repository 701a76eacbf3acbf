;; Element-wise float32 kernels of the merge runner, 4 lanes at a time (WebAssembly SIMD, Node ≥ 16.4).
;; Every operation is an IEEE binary32 add/sub/mul rounded to nearest-even, as torch's float32 CPU ops and
;; the JavaScript loops of f32.ts (Math.fround of a double result) compute, bit for bit: selections
;; multiply by 1 or 0 as torch's `M * mask` does (so a NaN stays NaN and a dropped −x gives −0).
;; Pointers are byte offsets into the imported memory, 16-byte aligned; n is a
;; count of float32 values. Regenerate f32-kernels-wasm.ts with `node scripts/build-kernels.mjs`.
;; The memory is shared (a SharedArrayBuffer) so that a helper thread can read files straight into the
;; arena's slots (src/tensor/read-helper.ts); the kernels themselves use no atomics.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; x[i] -= b[i]
  (func (export "sub") (param $x i32) (param $b i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $x) (local.get $vend)))
      (v128.store (local.get $x) (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $b))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $v)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $x) (local.get $end)))
      (f32.store (local.get $x) (f32.sub (f32.load (local.get $x)) (f32.load (local.get $b))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (br $s))))

  ;; acc[i] += x[i]
  (func (export "add") (param $acc i32) (param $x i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $acc) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $acc) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $acc) (local.get $vend)))
      (v128.store (local.get $acc) (f32x4.add (v128.load (local.get $acc)) (v128.load (local.get $x))))
      (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $v)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $acc) (local.get $end)))
      (f32.store (local.get $acc) (f32.add (f32.load (local.get $acc)) (f32.load (local.get $x))))
      (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $s))))

  ;; acc[i] += (x[i] - b[i])
  (func (export "addDiff") (param $acc i32) (param $x i32) (param $b i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $acc) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $acc) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $acc) (local.get $vend)))
      (v128.store (local.get $acc)
        (f32x4.add (v128.load (local.get $acc)) (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $b)))))
      (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $v)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $acc) (local.get $end)))
      (f32.store (local.get $acc)
        (f32.add (f32.load (local.get $acc)) (f32.sub (f32.load (local.get $x)) (f32.load (local.get $b)))))
      (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (br $s))))

  ;; out[i] = base[i] + s * v[i]
  (func (export "baseAddScaled") (param $out i32) (param $base i32) (param $s f32) (param $v i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $sv v128)
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $out) (local.get $vend)))
      (v128.store (local.get $out)
        (f32x4.add (v128.load (local.get $base)) (f32x4.mul (local.get $sv) (v128.load (local.get $v)))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $base (i32.add (local.get $base) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (br $v)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out)
        (f32.add (f32.load (local.get $base)) (f32.mul (local.get $s) (f32.load (local.get $v)))))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $base (i32.add (local.get $base) (i32.const 4)))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (br $s))))

  ;; best[i] = x[i] where |x[i]| >= |best[i]| (a NaN on either side keeps best: the comparison is false),
  ;; bit for bit: a selection, no arithmetic
  (func (export "maxAbsInto") (param $best i32) (param $x i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $v v128) (local $b v128)
    (local.set $end (i32.add (local.get $best) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $best) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $vl
      (br_if $vd (i32.ge_u (local.get $best) (local.get $vend)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $b (v128.load (local.get $best)))
      (v128.store (local.get $best) (v128.bitselect (local.get $v) (local.get $b) (f32x4.ge (f32x4.abs (local.get $v)) (f32x4.abs (local.get $b)))))
      (local.set $best (i32.add (local.get $best) (i32.const 16)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $vl)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $best) (local.get $end)))
      (if (f32.ge (f32.abs (f32.load (local.get $x))) (f32.abs (f32.load (local.get $best))))
        (then (i32.store (local.get $best) (i32.load (local.get $x)))))
      (local.set $best (i32.add (local.get $best) (i32.const 4)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $s))))

  ;; Σ f32(x[i] / dx) · f32(y[i] / dy) in float64 (each product of two float32 exact; a division by 1 is
  ;; exact, so dx = dy = 1 gives the plain dot product and x = y a sum of squares). Two float64 lanes per half
  ;; of four floats, as gramAdd: lanes j = i mod 4 sum apart, s = (s0 + s1) + (s2 + s3), then the n mod 4
  ;; tail in order — f32.ts's dotScaled computes the same sum in JavaScript, bit for bit.
  (func (export "dotScaled") (param $x i32) (param $y i32) (param $dx f32) (param $dy f32) (param $n i32) (result f64)
    (local $vend i32) (local $end i32) (local $a v128) (local $b v128) (local $lo v128) (local $hi v128)
    (local $sx v128) (local $sy v128) (local $s f64)
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $sx (f32x4.splat (local.get $dx)))
    (local.set $sy (f32x4.splat (local.get $dy)))
    (block $vd (loop $vl
      (br_if $vd (i32.ge_u (local.get $x) (local.get $vend)))
      (local.set $a (f32x4.div (v128.load (local.get $x)) (local.get $sx)))
      (local.set $b (f32x4.div (v128.load (local.get $y)) (local.get $sy)))
      (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $b)))))
      (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $vl)))
    (local.set $s (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo)))
      (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))
    (block $td (loop $tl
      (br_if $td (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $s (f64.add (local.get $s) (f64.mul
        (f64.promote_f32 (f32.div (f32.load (local.get $x)) (local.get $dx)))
        (f64.promote_f32 (f32.div (f32.load (local.get $y)) (local.get $dy))))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $tl)))
    (local.get $s))

  ;; out[i] = f32(s·x[i]) + f32(t·y[i]): two scaled float32 tensors added, as torch's `s * x + t * y`
  (func (export "axpby") (param $out i32) (param $s f32) (param $x i32) (param $t f32) (param $y i32) (param $n i32)
    (local $vend i32) (local $end i32) (local $vs v128) (local $vt v128)
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vs (f32x4.splat (local.get $s)))
    (local.set $vt (f32x4.splat (local.get $t)))
    (block $vd (loop $vl
      (br_if $vd (i32.ge_u (local.get $out) (local.get $vend)))
      (v128.store (local.get $out) (f32x4.add
        (f32x4.mul (local.get $vs) (v128.load (local.get $x)))
        (f32x4.mul (local.get $vt) (v128.load (local.get $y)))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $vl)))
    (block $sd (loop $sl
      (br_if $sd (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out) (f32.add
        (f32.mul (local.get $s) (f32.load (local.get $x)))
        (f32.mul (local.get $t) (f32.load (local.get $y)))))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $sl))))

  ;; ModelStock's Gram sums, one block: for 0 ≤ i ≤ j < k, g[i·k + j] += Σ_p τᵢ[p]·τⱼ[p] in float64 (each
  ;; product exact), τᵢ the `len` floats at tau + 4·i·stride, g float64 values. Two float64 lanes per half
  ;; of four floats, so the sum's order differs from a sequential loop's (float64 rounding: ~1e-16 relative).
  (func (export "gramAdd") (param $tau i32) (param $k i32) (param $stride i32) (param $len i32) (param $g i32)
    (local $i i32) (local $j i32) (local $p i32) (local $vlen i32) (local $ti i32) (local $tj i32)
    (local $a v128) (local $b v128) (local $lo v128) (local $hi v128) (local $s f64) (local $at i32)
    (local.set $vlen (i32.and (local.get $len) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $k)))
      (local.set $ti (i32.add (local.get $tau) (i32.shl (i32.mul (local.get $i) (local.get $stride)) (i32.const 2))))
      (local.set $j (local.get $i))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $k)))
        (local.set $tj (i32.add (local.get $tau) (i32.shl (i32.mul (local.get $j) (local.get $stride)) (i32.const 2))))
        (local.set $lo (v128.const f64x2 0 0))
        (local.set $hi (v128.const f64x2 0 0))
        (local.set $p (i32.const 0))
        (block $pd (loop $pl
          (br_if $pd (i32.ge_u (local.get $p) (local.get $vlen)))
          (local.set $a (v128.load (i32.add (local.get $ti) (i32.shl (local.get $p) (i32.const 2)))))
          (local.set $b (v128.load (i32.add (local.get $tj) (i32.shl (local.get $p) (i32.const 2)))))
          (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $b)))))
          (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br $pl)))
        (local.set $s (f64.add
          (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo)))
          (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))
        (block $td (loop $tl
          (br_if $td (i32.ge_u (local.get $p) (local.get $len)))
          (local.set $s (f64.add (local.get $s) (f64.mul
            (f64.promote_f32 (f32.load (i32.add (local.get $ti) (i32.shl (local.get $p) (i32.const 2)))))
            (f64.promote_f32 (f32.load (i32.add (local.get $tj) (i32.shl (local.get $p) (i32.const 2))))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $tl)))
        (local.set $at (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $j)) (i32.const 3))))
        (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $s)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il))))

    ;; TIES trim: v = x[i] - b[i]; x[i] = v * ((bits(v) & 0x7fffffff) >= thr, unsigned, as 1 or 0);
  ;; sum[i] += x[i]
  (func (export "subTrimAdd") (param $x i32) (param $b i32) (param $thr i32) (param $sum i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $t v128) (local $m v128) (local $d v128) (local $f f32) (local $one v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $t (i32x4.splat (local.get $thr)))
    (local.set $m (i32x4.splat (i32.const 0x7fffffff)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $x) (local.get $vend)))
      (local.set $d (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $b))))
      (local.set $d (f32x4.mul (local.get $d)
        (v128.and (i32x4.ge_u (v128.and (local.get $d) (local.get $m)) (local.get $t)) (local.get $one))))
      (v128.store (local.get $x) (local.get $d))
      (v128.store (local.get $sum) (f32x4.add (v128.load (local.get $sum)) (local.get $d)))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $sum (i32.add (local.get $sum) (i32.const 16)))
      (br $v)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $f (f32.sub (f32.load (local.get $x)) (f32.load (local.get $b))))
      (local.set $f (f32.mul (local.get $f) (f32.convert_i32_u
        (i32.ge_u (i32.and (i32.reinterpret_f32 (local.get $f)) (i32.const 0x7fffffff)) (local.get $thr)))))
      (f32.store (local.get $x) (local.get $f))
      (f32.store (local.get $sum) (f32.add (f32.load (local.get $sum)) (local.get $f)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (local.set $sum (i32.add (local.get $sum) (i32.const 4)))
      (br $s))))

  ;; s[i] = sign(s[i]) as -1 or 1, and `fill` where it is 0 or NaN; returns how many were 0 or NaN
  (func (export "signInPlace") (param $p i32) (param $n i32) (param $fill f32) (result i32)
    (local $end i32) (local $vend i32) (local $one v128) (local $x v128) (local $z v128) (local $zeros v128)
    (local $f f32) (local $count i32) (local $none v128) (local $fv v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $fv (f32x4.splat (local.get $fill)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $p) (local.get $vend)))
      (local.set $x (v128.load (local.get $p)))
      (local.set $z (v128.const i32x4 0 0 0 0))
      ;; lanes neither > 0 nor < 0 (zero, NaN) are all-ones: they take the fill, and subtracting counts them
      (local.set $none (v128.not (v128.or (f32x4.gt (local.get $x) (local.get $z)) (f32x4.lt (local.get $x) (local.get $z)))))
      (v128.store (local.get $p)
        (v128.bitselect (local.get $fv)
          (f32x4.sub (v128.and (f32x4.gt (local.get $x) (local.get $z)) (local.get $one))
                     (v128.and (f32x4.lt (local.get $x) (local.get $z)) (local.get $one)))
          (local.get $none)))
      (local.set $zeros (i32x4.sub (local.get $zeros) (local.get $none)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $v)))
    (local.set $count (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $zeros)) (i32x4.extract_lane 1 (local.get $zeros)))
      (i32.add (i32x4.extract_lane 2 (local.get $zeros)) (i32x4.extract_lane 3 (local.get $zeros)))))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $f (f32.load (local.get $p)))
      (local.set $f (f32.sub (f32.convert_i32_s (f32.gt (local.get $f) (f32.const 0)))
                             (f32.convert_i32_s (f32.lt (local.get $f) (f32.const 0)))))
      (local.set $count (i32.add (local.get $count) (f32.eq (local.get $f) (f32.const 0))))
      (f32.store (local.get $p) (select (local.get $fill) (local.get $f) (f32.eq (local.get $f) (f32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $s)))
    (local.get $count))

  ;; TIES disjoint sum: out[i] += v[i] * (sign[i] * v[i] > 0, as 1 or 0)
  (func (export "addAgreeing") (param $out i32) (param $v i32) (param $sign i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $x v128) (local $f f32) (local $one v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vd (loop $l
      (br_if $vd (i32.ge_u (local.get $out) (local.get $vend)))
      (local.set $x (v128.load (local.get $v)))
      (v128.store (local.get $out)
        (f32x4.add (v128.load (local.get $out))
          (f32x4.mul (local.get $x) (v128.and (local.get $one)
            (f32x4.gt (f32x4.mul (v128.load (local.get $sign)) (local.get $x)) (v128.const i32x4 0 0 0 0))))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $sign (i32.add (local.get $sign) (i32.const 16)))
      (br $l)))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $out) (local.get $end)))
      (local.set $f (f32.load (local.get $v)))
      (f32.store (local.get $out) (f32.add (f32.load (local.get $out)) (f32.mul (local.get $f)
        (f32.convert_i32_u (f32.gt (f32.mul (f32.load (local.get $sign)) (local.get $f)) (f32.const 0))))))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (local.set $sign (i32.add (local.get $sign) (i32.const 4)))
      (br $s))))

  ;; ---- TIES threshold passes (radix select over |τ| bits: 20 high bits, then 11 low bits) -------------

  ;; h[(bits(x[i]) & 0x7fffffff) >> 11] += 1 (u32 counts)
  (func (export "histHigh") (param $x i32) (param $n i32) (param $h i32)
    (local $end i32) (local $at i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $at (i32.add (local.get $h)
        (i32.shl (i32.shr_u (i32.and (i32.load (local.get $x)) (i32.const 0x7fffffff)) (i32.const 11)) (i32.const 2))))
      (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $l))))

  ;; a = bits(x[i]) & 0x7fffffff, hb = a >> 11: when hb == bin, h[a & 2047] += 1 and open[i] = 1 (u8);
  ;; sum[i] += x[i] * (hb > bin, as 1 or 0)
  (func (export "histLowSum") (param $x i32) (param $n i32) (param $bin i32) (param $h i32) (param $sum i32) (param $open i32)
    (local $end i32) (local $a i32) (local $hb i32) (local $at i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $a (i32.and (i32.load (local.get $x)) (i32.const 0x7fffffff)))
      (local.set $hb (i32.shr_u (local.get $a) (i32.const 11)))
      (if (i32.eq (local.get $hb) (local.get $bin))
        (then
          (local.set $at (i32.add (local.get $h) (i32.shl (i32.and (local.get $a) (i32.const 2047)) (i32.const 2))))
          (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
          (i32.store8 (local.get $open) (i32.const 1))))
      (f32.store (local.get $sum) (f32.add (f32.load (local.get $sum))
        (f32.mul (f32.load (local.get $x)) (f32.convert_i32_u (i32.gt_u (local.get $hb) (local.get $bin))))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $sum (i32.add (local.get $sum) (i32.const 4)))
      (local.set $open (i32.add (local.get $open) (i32.const 1)))
      (br $l))))

  ;; Σ sign(sum[i]) over the positions with open[i] == 0
  (func (export "decidedBalance") (param $sum i32) (param $open i32) (param $n i32) (result i32)
    (local $end i32) (local $b i32) (local $f f32)
    (local.set $end (i32.add (local.get $open) (local.get $n)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $open) (local.get $end)))
      (local.set $f (f32.load (local.get $sum)))
      (local.set $b (i32.add (local.get $b)
        (i32.mul (i32.eqz (i32.load8_u (local.get $open)))
          (i32.sub (f32.gt (local.get $f) (f32.const 0)) (f32.lt (local.get $f) (f32.const 0))))))
      (local.set $sum (i32.add (local.get $sum) (i32.const 4)))
      (local.set $open (i32.add (local.get $open) (i32.const 1)))
      (br $l)))
    (local.get $b))

  ;; ---- half precision ----------------------------------------------------------------------------------

  ;; Four float16 values, zero-extended into 32-bit lanes, widened exactly to float32 bit patterns, any
  ;; class: normals rebias the exponent by an integer add, infinities/NaN get the float32 exponent of all
  ;; ones, zeros and subnormals (exponent 0) are their 10-bit mantissa converted to float times 2^-24 —
  ;; exact, and without a subnormal float operand (x86 takes a slow microcode path for each).
  ;; Called only for the rare blocks of eight that hold such a value; the loops convert normals inline.
  (func $half4 (param $w v128) (result v128)
    (local $m v128) (local $e v128)
    (v128.or
      (i32x4.shl (v128.and (local.get $w) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))
      (v128.bitselect
        (v128.or
          (i32x4.shl (local.tee $m (v128.and (local.get $w) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))) (i32.const 13))
          (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
        (v128.bitselect
          (f32x4.mul (f32x4.convert_i32x4_s (local.get $m)) (v128.const f32x4 0x1p-24 0x1p-24 0x1p-24 0x1p-24))
          (i32x4.add (i32x4.shl (local.get $m) (i32.const 13)) (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000))
          (i32x4.eq (local.tee $e (v128.and (local.get $w) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))) (v128.const i32x4 0 0 0 0)))
        (i32x4.eq (local.get $e) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))))

  ;; One float16 or bfloat16 value (bf != 0) widened exactly to float32 bits: the loops' tails. A subnormal
  ;; float16 goes through a float multiply here (a few values per call at most).
  (func $half1 (param $h i32) (param $bf i32) (result i32)
    (local $o i32)
    (if (result i32) (local.get $bf)
      (then (i32.shl (local.get $h) (i32.const 16)))
      (else
        (local.set $o (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 13)))
        (i32.or
          (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16))
          (select
            (i32.or (local.get $o) (i32.const 0x7f800000))
            (i32.reinterpret_f32 (f32.mul (f32.reinterpret_i32 (local.get $o)) (f32.const 0x1p112)))
            (i32.eq (i32.and (local.get $h) (i32.const 0x7c00)) (i32.const 0x7c00)))))))

  ;; In place: the n 16-bit values at p + 2n (the upper half of the n floats at p) widened to float32 at p,
  ;; exactly (infinities and NaN payloads kept bit for bit). Front to back, each block is loaded before it
  ;; is overwritten. bf != 0: bfloat16 (bits << 16).
  ;; float16, eight at a time: when all eight are normal (exponent neither 0 nor 31), each goes into the
  ;; upper half of a 32-bit lane (sign, exponent, mantissa at bits 31, 30–26, 25–16), an arithmetic shift
  ;; right by 3 puts exponent and mantissa where float32 has them (copying the sign into bits 30–28, which
  ;; are cleared), and the exponent is rebiased by adding 112 << 23; other blocks go through $half4.
  ;; Constants live in locals: V8 does not hoist a splat out of the loop, and re-made splats cost more than
  ;; the conversion.
  (func (export "widenHalf") (param $p i32) (param $n i32) (param $bf i32)
    (local $src i32) (local $end i32) (local $vend i32) (local $x v128) (local $w v128)
    (local $cm v128) (local $cb v128) (local $ce v128) (local $z v128)
    (local.set $src (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (if (local.get $bf)
      (then
        (block $bd (loop $b
          (br_if $bd (i32.ge_u (local.get $p) (local.get $vend)))
          (local.set $x (v128.load (local.get $src)))
          (v128.store (local.get $p) (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $x)) (i32.const 16)))
          (v128.store offset=16 (local.get $p) (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $x)) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (br $b))))
      (else
        (local.set $cm (i32x4.splat (i32.const 0x8fffffff)))
        (local.set $cb (i32x4.splat (i32.const 0x38000000)))
        (local.set $ce (i16x8.splat (i32.const 0x7c00)))
        (block $hd (loop $hl
          (br_if $hd (i32.ge_u (local.get $p) (local.get $vend)))
          (local.set $x (v128.load (local.get $src)))
          (local.set $w (v128.and (local.get $x) (local.get $ce)))
          (if (v128.any_true (v128.or (i16x8.eq (local.get $w) (local.get $z)) (i16x8.eq (local.get $w) (local.get $ce))))
            (then
              (v128.store (local.get $p) (call $half4 (i32x4.extend_low_i16x8_u (local.get $x))))
              (v128.store offset=16 (local.get $p) (call $half4 (i32x4.extend_high_i16x8_u (local.get $x)))))
            (else
              (v128.store (local.get $p) (i32x4.add (v128.and (i32x4.shr_s
                (i8x16.shuffle 16 17 0 1 18 19 2 3 20 21 4 5 22 23 6 7 (local.get $x) (local.get $z)) (i32.const 3)) (local.get $cm)) (local.get $cb)))
              (v128.store offset=16 (local.get $p) (i32x4.add (v128.and (i32x4.shr_s
                (i8x16.shuffle 24 25 8 9 26 27 10 11 28 29 12 13 30 31 14 15 (local.get $x) (local.get $z)) (i32.const 3)) (local.get $cm)) (local.get $cb)))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (br $hl)))))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $p) (local.get $end)))
      (i32.store (local.get $p) (call $half1 (i32.load16_u (local.get $src)) (local.get $bf)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (i32.const 2)))
      (br $s))))

  ;; acc[i] += f32(x[i]) − b[i] for n float16 values at x (bf != 0: bfloat16); with `first`, acc[i] =
  ;; f32(x[i]) − b[i], and x may be the upper half of acc's own bytes (as widenHalf's p + 2n; each block is
  ;; loaded before it is overwritten). The same float32 operations as widenHalf then addDiff / sub, without
  ;; the widened copy going through memory. Four loops written out: one loop choosing per block between
  ;; adding and storing (by masks) ran out of vector registers in V8 and cost half as much again.
  (func (export "addDiffHalf") (param $acc i32) (param $x i32) (param $b i32) (param $n i32) (param $bf i32) (param $first i32)
    (local $end i32) (local $vend i32) (local $v v128) (local $w v128) (local $cm v128) (local $cb v128) (local $ce v128) (local $z v128)
    (local.set $end (i32.add (local.get $acc) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $acc) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (local.set $cm (i32x4.splat (i32.const 0x8fffffff)))
    (local.set $cb (i32x4.splat (i32.const 0x38000000)))
    (local.set $ce (i16x8.splat (i32.const 0x7c00)))
    (if (local.get $bf)
      (then (if (local.get $first)
        (then
          (block $bfd (loop $bf
            (br_if $bfd (i32.ge_u (local.get $acc) (local.get $vend)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $acc) (f32x4.sub (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $v)) (i32.const 16)) (v128.load (local.get $b))))
            (v128.store offset=16 (local.get $acc) (f32x4.sub (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $v)) (i32.const 16)) (v128.load offset=16 (local.get $b))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 32)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $bf))))
        (else
          (block $bad (loop $ba
            (br_if $bad (i32.ge_u (local.get $acc) (local.get $vend)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $acc)
              (f32x4.add (v128.load (local.get $acc)) (f32x4.sub (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $v)) (i32.const 16)) (v128.load (local.get $b)))))
            (v128.store offset=16 (local.get $acc)
              (f32x4.add (v128.load offset=16 (local.get $acc)) (f32x4.sub (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $v)) (i32.const 16)) (v128.load offset=16 (local.get $b)))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 32)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $ba))))))
      (else (if (local.get $first)
        (then
          (block $hfd (loop $hf
            (br_if $hfd (i32.ge_u (local.get $acc) (local.get $vend)))
            (local.set $v (v128.load (local.get $x)))
            (local.set $w (v128.and (local.get $v) (local.get $ce)))
            (if (v128.any_true (v128.or (i16x8.eq (local.get $w) (local.get $z)) (i16x8.eq (local.get $w) (local.get $ce))))
              (then
                (v128.store (local.get $acc) (f32x4.sub (call $half4 (i32x4.extend_low_i16x8_u (local.get $v))) (v128.load (local.get $b))))
                (v128.store offset=16 (local.get $acc) (f32x4.sub (call $half4 (i32x4.extend_high_i16x8_u (local.get $v))) (v128.load offset=16 (local.get $b)))))
              (else
                (v128.store (local.get $acc) (f32x4.sub (i32x4.add (v128.and (i32x4.shr_s (i8x16.shuffle 16 17 0 1 18 19 2 3 20 21 4 5 22 23 6 7 (local.get $v) (local.get $z)) (i32.const 3)) (local.get $cm)) (local.get $cb)) (v128.load (local.get $b))))
                (v128.store offset=16 (local.get $acc) (f32x4.sub (i32x4.add (v128.and (i32x4.shr_s (i8x16.shuffle 24 25 8 9 26 27 10 11 28 29 12 13 30 31 14 15 (local.get $v) (local.get $z)) (i32.const 3)) (local.get $cm)) (local.get $cb)) (v128.load offset=16 (local.get $b))))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 32)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $hf))))
        (else
          (block $had (loop $ha
            (br_if $had (i32.ge_u (local.get $acc) (local.get $vend)))
            (local.set $v (v128.load (local.get $x)))
            (local.set $w (v128.and (local.get $v) (local.get $ce)))
            (if (v128.any_true (v128.or (i16x8.eq (local.get $w) (local.get $z)) (i16x8.eq (local.get $w) (local.get $ce))))
              (then
                (v128.store (local.get $acc)
                  (f32x4.add (v128.load (local.get $acc)) (f32x4.sub (call $half4 (i32x4.extend_low_i16x8_u (local.get $v))) (v128.load (local.get $b)))))
                (v128.store offset=16 (local.get $acc)
                  (f32x4.add (v128.load offset=16 (local.get $acc)) (f32x4.sub (call $half4 (i32x4.extend_high_i16x8_u (local.get $v))) (v128.load offset=16 (local.get $b))))))
              (else
                (v128.store (local.get $acc)
                  (f32x4.add (v128.load (local.get $acc)) (f32x4.sub (i32x4.add (v128.and (i32x4.shr_s (i8x16.shuffle 16 17 0 1 18 19 2 3 20 21 4 5 22 23 6 7 (local.get $v) (local.get $z)) (i32.const 3)) (local.get $cm)) (local.get $cb)) (v128.load (local.get $b)))))
                (v128.store offset=16 (local.get $acc)
                  (f32x4.add (v128.load offset=16 (local.get $acc)) (f32x4.sub (i32x4.add (v128.and (i32x4.shr_s (i8x16.shuffle 24 25 8 9 26 27 10 11 28 29 12 13 30 31 14 15 (local.get $v) (local.get $z)) (i32.const 3)) (local.get $cm)) (local.get $cb)) (v128.load offset=16 (local.get $b)))))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 32)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $ha)))))))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $acc) (local.get $end)))
      (f32.store (local.get $acc) (f32.add
        (select (f32.const -0) (f32.load (local.get $acc)) (local.get $first))
        (f32.sub (f32.reinterpret_i32 (call $half1 (i32.load16_u (local.get $x)) (local.get $bf))) (f32.load (local.get $b)))))
      (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (local.set $x (i32.add (local.get $x) (i32.const 2)))
      (br $s))))

  ;; float32 bits → float16 bits, round to nearest-even (dtype.ts's f32BitsToF16Bits): infinities stay,
  ;; NaN keeps its top payload bits and is made quiet, values beyond the half range become infinities,
  ;; values below half the smallest subnormal signed zeros. The blocks narrowHalf cannot take whole.
  (func $f16bits (param $f i32) (result i32)
    (local $sign i32) (local $exp i32) (local $mant i32) (local $e i32) (local $shift i32) (local $half i32) (local $rem i32) (local $h i32)
    (local.set $sign (i32.and (i32.shr_u (local.get $f) (i32.const 16)) (i32.const 0x8000)))
    (local.set $exp (i32.and (i32.shr_u (local.get $f) (i32.const 23)) (i32.const 0xff)))
    (local.set $mant (i32.and (local.get $f) (i32.const 0x7fffff)))
    (if (i32.eq (local.get $exp) (i32.const 0xff))
      (then (return (select
        (i32.or (local.get $sign) (i32.const 0x7c00))
        (i32.or (i32.or (local.get $sign) (i32.const 0x7e00)) (i32.shr_u (local.get $mant) (i32.const 13)))
        (i32.eqz (local.get $mant))))))
    (local.set $e (i32.sub (local.get $exp) (i32.const 112)))
    (if (i32.ge_s (local.get $e) (i32.const 0x1f)) (then (return (i32.or (local.get $sign) (i32.const 0x7c00)))))
    (if (i32.le_s (local.get $e) (i32.const 0))
      (then
        (if (i32.lt_s (local.get $e) (i32.const -10)) (then (return (local.get $sign))))
        (local.set $mant (i32.or (local.get $mant) (i32.const 0x800000)))
        (local.set $shift (i32.sub (i32.const 14) (local.get $e)))
        (local.set $half (i32.shl (i32.const 1) (i32.sub (local.get $shift) (i32.const 1))))
        (local.set $rem (i32.and (local.get $mant) (i32.sub (i32.shl (i32.const 1) (local.get $shift)) (i32.const 1))))
        (local.set $h (i32.shr_u (local.get $mant) (local.get $shift))))
      (else
        (local.set $half (i32.const 0x1000))
        (local.set $rem (i32.and (local.get $mant) (i32.const 0x1fff)))
        (local.set $h (i32.or (i32.shl (local.get $e) (i32.const 10)) (i32.shr_u (local.get $mant) (i32.const 13))))))
    ;; a carry out of the mantissa lands on the next exponent (or infinity), which is right
    (if (i32.or (i32.gt_u (local.get $rem) (local.get $half))
                (i32.and (i32.eq (local.get $rem) (local.get $half)) (i32.and (local.get $h) (i32.const 1))))
      (then (local.set $h (i32.add (local.get $h) (i32.const 1)))))
    (i32.or (local.get $sign) (local.get $h)))

  ;; float32 bits → bfloat16 bits, round to nearest-even; NaN made quiet, sign kept (f32BitsToBf16Bits).
  (func $bf16bits (param $f i32) (result i32)
    (select
      (i32.or (i32.shr_u (local.get $f) (i32.const 16)) (i32.const 0x40))
      (i32.shr_u (i32.add (i32.add (local.get $f) (i32.const 0x7fff)) (i32.and (i32.shr_u (local.get $f) (i32.const 16)) (i32.const 1))) (i32.const 16))
      (i32.gt_u (i32.and (local.get $f) (i32.const 0x7fffffff)) (i32.const 0x7f800000))))

  ;; In place: the n floats at p rounded to float16 (bf != 0: bfloat16) as dtype.ts's f32ToF16 / f32ToBf16
  ;; do, stored as n 16-bit values at p (front to back: each block of eight is loaded before the half as
  ;; many bytes are stored over its start). bfloat16 eight at a time; float16 eight at a time when all
  ;; eight lie in the normal half range (2^-14 ≤ |x| < 65536: rebias, add 0xfff plus the lowest kept
  ;; bit, shift), else value by value.
  (func (export "narrowHalf") (param $p i32) (param $n i32) (param $bf i32)
    (local $src i32) (local $end i32) (local $vend i32) (local $a v128) (local $b v128) (local $k i32)
    (local $cabs v128) (local $clo v128) (local $cspan v128) (local $cbias v128) (local $c1 v128) (local $csign v128)
    (local.set $src (local.get $p))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (local.set $c1 (i32x4.splat (i32.const 1)))
    (if (local.get $bf)
      (then
        (local.set $cabs (i32x4.splat (i32.const 0x7fffffff)))
        (local.set $clo (i32x4.splat (i32.const 0x7f800000)))
        (local.set $cbias (i32x4.splat (i32.const 0x7fff)))
        (local.set $csign (i32x4.splat (i32.const 0x40)))
        (block $bd (loop $bl
          (br_if $bd (i32.ge_u (local.get $src) (local.get $vend)))
          (local.set $a (v128.load (local.get $src)))
          (local.set $b (v128.load offset=16 (local.get $src)))
          (v128.store (local.get $p) (i16x8.narrow_i32x4_u
            (v128.bitselect
              (v128.or (i32x4.shr_u (local.get $a) (i32.const 16)) (local.get $csign))
              (i32x4.shr_u (i32x4.add (i32x4.add (local.get $a) (local.get $cbias)) (v128.and (i32x4.shr_u (local.get $a) (i32.const 16)) (local.get $c1))) (i32.const 16))
              (i32x4.gt_s (v128.and (local.get $a) (local.get $cabs)) (local.get $clo)))
            (v128.bitselect
              (v128.or (i32x4.shr_u (local.get $b) (i32.const 16)) (local.get $csign))
              (i32x4.shr_u (i32x4.add (i32x4.add (local.get $b) (local.get $cbias)) (v128.and (i32x4.shr_u (local.get $b) (i32.const 16)) (local.get $c1))) (i32.const 16))
              (i32x4.gt_s (v128.and (local.get $b) (local.get $cabs)) (local.get $clo)))))
          (local.set $src (i32.add (local.get $src) (i32.const 32)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $bl))))
      (else
        (local.set $cabs (i32x4.splat (i32.const 0x7fffffff)))
        (local.set $clo (i32x4.splat (i32.const 0x38800000)))
        (local.set $cspan (i32x4.splat (i32.const 0x0f000000)))
        (local.set $cbias (i32x4.splat (i32.const 0xc8000fff))) ;; −0x38000000 + 0xfff
        (local.set $csign (i32x4.splat (i32.const 0x8000)))
        (block $hd (loop $hl
          (br_if $hd (i32.ge_u (local.get $src) (local.get $vend)))
          (local.set $a (v128.load (local.get $src)))
          (local.set $b (v128.load offset=16 (local.get $src)))
          (if (i32.and
                (i32x4.all_true (i32x4.lt_u (i32x4.sub (v128.and (local.get $a) (local.get $cabs)) (local.get $clo)) (local.get $cspan)))
                (i32x4.all_true (i32x4.lt_u (i32x4.sub (v128.and (local.get $b) (local.get $cabs)) (local.get $clo)) (local.get $cspan))))
            (then
              (v128.store (local.get $p) (i16x8.narrow_i32x4_u
                (v128.or
                  (v128.and (i32x4.shr_u (local.get $a) (i32.const 16)) (local.get $csign))
                  (i32x4.shr_u (i32x4.add (i32x4.add (v128.and (local.get $a) (local.get $cabs)) (local.get $cbias))
                    (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (local.get $c1))) (i32.const 13)))
                (v128.or
                  (v128.and (i32x4.shr_u (local.get $b) (i32.const 16)) (local.get $csign))
                  (i32x4.shr_u (i32x4.add (i32x4.add (v128.and (local.get $b) (local.get $cabs)) (local.get $cbias))
                    (v128.and (i32x4.shr_u (local.get $b) (i32.const 13)) (local.get $c1))) (i32.const 13))))))
            (else
              (local.set $k (i32.const 0))
              (block $ld (loop $ll
                (br_if $ld (i32.ge_u (local.get $k) (i32.const 8)))
                (i32.store16 (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 1)))
                  (call $f16bits (i32.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $ll)))))
          (local.set $src (i32.add (local.get $src) (i32.const 32)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $hl)))))
    (block $sd (loop $s
      (br_if $sd (i32.ge_u (local.get $src) (local.get $end)))
      (i32.store16 (local.get $p) (select
        (call $bf16bits (i32.load (local.get $src)))
        (call $f16bits (i32.load (local.get $src)))
        (local.get $bf)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $s))))
)
