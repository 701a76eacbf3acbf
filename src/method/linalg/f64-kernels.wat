;; Float64 kernels of the tridiagonalisation (tridiag-reduce.ts), two lanes at a time (WebAssembly SIMD):
;; the O(n²)-per-column work that cannot be batched into onnxruntime's GEMM — the matrix–vector product
;; against the trailing matrix, and the panel's column updates and corrections against earlier
;; reflectors — so that no JavaScript loop of that size remains on the reduction's path.
;; Pointers are byte offsets into the imported memory (8-byte aligned; unaligned v128 access is allowed);
;; lengths count float64 values. Regenerate f64-kernels-wasm.ts with `node scripts/build-linalg-kernels.mjs`.
(module
  (import "env" "memory" (memory 1))

  ;; Σ x[k] y[k], k < len
  (func $dot (export "dot") (param $x i32) (param $y i32) (param $len i32) (result f64)
    (local $end i32) (local $vend i32) (local $a v128) (local $b v128) (local $s f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $len) (i32.const 3))))
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 3))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $x) (local.get $vend)))
      (local.set $a (f64x2.add (local.get $a) (f64x2.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))
      (local.set $b (f64x2.add (local.get $b)
        (f64x2.mul (v128.load offset=16 (local.get $x)) (v128.load offset=16 (local.get $y)))))
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (local.set $y (i32.add (local.get $y) (i32.const 32)))
      (br $v)))
    (local.set $a (f64x2.add (local.get $a) (local.get $b)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    (block $sd (loop $t
      (br_if $sd (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $s (f64.add (local.get $s) (f64.mul (f64.load (local.get $x)) (f64.load (local.get $y)))))
      (local.set $x (i32.add (local.get $x) (i32.const 8)))
      (local.set $y (i32.add (local.get $y) (i32.const 8)))
      (br $t)))
    (local.get $s))

  ;; y[k] -= x1[k] s1 + x2[k] s2, k < len
  (func $axpy2 (export "axpy2") (param $y i32) (param $x1 i32) (param $s1 f64) (param $x2 i32) (param $s2 f64) (param $len i32)
    (local $end i32) (local $vend i32) (local $v1 v128) (local $v2 v128)
    (local.set $v1 (f64x2.splat (local.get $s1)))
    (local.set $v2 (f64x2.splat (local.get $s2)))
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $len) (i32.const 3))))
    (local.set $vend (i32.add (local.get $y) (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3))))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $y) (local.get $vend)))
      (v128.store (local.get $y) (f64x2.sub (v128.load (local.get $y))
        (f64x2.add (f64x2.mul (v128.load (local.get $x1)) (local.get $v1))
                   (f64x2.mul (v128.load (local.get $x2)) (local.get $v2)))))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $x1 (i32.add (local.get $x1) (i32.const 16)))
      (local.set $x2 (i32.add (local.get $x2) (i32.const 16)))
      (br $v)))
    (if (i32.lt_u (local.get $y) (local.get $end))
      (then (f64.store (local.get $y) (f64.sub (f64.load (local.get $y))
        (f64.add (f64.mul (f64.load (local.get $x1)) (local.get $s1))
                 (f64.mul (f64.load (local.get $x2)) (local.get $s2))))))))

  ;; The panel's updates of column i: col[r] -= Σ_{q<p} V_q[r] W_q[i] + W_q[r] V_q[i] for r in [i, n),
  ;; where V_q = V + q·ld and W_q = W + q·ld (ld in bytes) hold global rows.
  (func (export "colUpdate") (param $col i32) (param $V i32) (param $W i32) (param $ld i32) (param $p i32) (param $i i32) (param $n i32)
    (local $q i32) (local $off i32) (local $vq i32) (local $wq i32)
    (local.set $off (i32.shl (local.get $i) (i32.const 3)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $q) (local.get $p)))
      (local.set $vq (i32.add (i32.add (local.get $V) (i32.mul (local.get $q) (local.get $ld))) (local.get $off)))
      (local.set $wq (i32.add (i32.add (local.get $W) (i32.mul (local.get $q) (local.get $ld))) (local.get $off)))
      (call $axpy2 (i32.add (local.get $col) (local.get $off))
        (local.get $vq) (f64.load (local.get $wq))
        (local.get $wq) (f64.load (local.get $vq))
        (i32.sub (local.get $n) (local.get $i)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $next))))

  ;; dlatrd's corrections of w = A v over rows [f, n): for q < p, w -= V_q (W_qᵀv) + W_q (V_qᵀv), with v = V_p.
  (func (export "corr") (param $w i32) (param $V i32) (param $W i32) (param $ld i32) (param $p i32) (param $f i32) (param $n i32)
    (local $q i32) (local $off i32) (local $vq i32) (local $wq i32) (local $v i32) (local $len i32) (local $wv f64) (local $d f64)
    (local.set $off (i32.shl (local.get $f) (i32.const 3)))
    (local.set $len (i32.sub (local.get $n) (local.get $f)))
    (local.set $v (i32.add (i32.add (local.get $V) (i32.mul (local.get $p) (local.get $ld))) (local.get $off)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $q) (local.get $p)))
      (local.set $vq (i32.add (i32.add (local.get $V) (i32.mul (local.get $q) (local.get $ld))) (local.get $off)))
      (local.set $wq (i32.add (i32.add (local.get $W) (i32.mul (local.get $q) (local.get $ld))) (local.get $off)))
      (local.set $wv (call $dot (local.get $wq) (local.get $v) (local.get $len)))
      (local.set $d (call $dot (local.get $vq) (local.get $v) (local.get $len)))
      (call $axpy2 (i32.add (local.get $w) (local.get $off)) (local.get $vq) (local.get $wv) (local.get $wq) (local.get $d) (local.get $len))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $next))))

  ;; w[r] = Σ_{c < n−from} A[r][from + c] v[c] for r in [from, n), A symmetric, row-major n×n at $a, v at $v,
  ;; w[0] at $w. Only the lower triangle is read — each entry once, for both of its products (dsymv,
  ;; lower) — two rows at a time, which share the loads and stores of v and w.
  (func (export "symv") (param $a i32) (param $n i32) (param $from i32) (param $v i32) (param $w i32)
    (local $r i32) (local $ld i32) (local $vb i32) (local $p0 i32) (local $p1 i32) (local $pv i32) (local $pw i32) (local $vend i32)
    (local $t0 v128) (local $t1 v128) (local $acc0 v128) (local $acc1 v128) (local $x v128) (local $a0 v128) (local $a1 v128)
    (local $c0 f64) (local $c1 f64) (local $s0 f64) (local $s1 f64) (local $d0 f64) (local $d1 f64) (local $xv f64)
    (local.set $ld (i32.shl (local.get $n) (i32.const 3)))
    (local.set $vb (i32.sub (local.get $v) (i32.shl (local.get $from) (i32.const 3))))
    ;; w[from …] = 0: later rows add their transposed products to it
    (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $from) (i32.const 3))))
    (local.set $vend (i32.add (local.get $w) (local.get $ld)))
    (block $zd (loop $z
      (br_if $zd (i32.ge_u (local.get $pw) (local.get $vend)))
      (f64.store (local.get $pw) (f64.const 0))
      (local.set $pw (i32.add (local.get $pw) (i32.const 8)))
      (br $z)))
    (local.set $r (local.get $from))
    (block $pairs (loop $pair
      (br_if $pairs (i32.gt_s (i32.add (local.get $r) (i32.const 2)) (local.get $n)))
      (local.set $p0 (i32.add (local.get $a)
        (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $from)) (i32.const 3))))
      (local.set $p1 (i32.add (local.get $p0) (local.get $ld)))
      (local.set $pv (local.get $v))
      (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $from) (i32.const 3))))
      (local.set $vend (i32.add (local.get $v)
        (i32.shl (i32.and (i32.sub (local.get $r) (local.get $from)) (i32.const -2)) (i32.const 3))))
      (local.set $c0 (f64.load (i32.add (local.get $vb) (i32.shl (local.get $r) (i32.const 3)))))
      (local.set $c1 (f64.load offset=8 (i32.add (local.get $vb) (i32.shl (local.get $r) (i32.const 3)))))
      (local.set $t0 (f64x2.splat (local.get $c0)))
      (local.set $t1 (f64x2.splat (local.get $c1)))
      (local.set $acc0 (v128.const i64x2 0 0))
      (local.set $acc1 (v128.const i64x2 0 0))
      (block $cd (loop $c
        (br_if $cd (i32.ge_u (local.get $pv) (local.get $vend)))
        (local.set $x (v128.load (local.get $pv)))
        (local.set $a0 (v128.load (local.get $p0)))
        (local.set $a1 (v128.load (local.get $p1)))
        (v128.store (local.get $pw) (f64x2.add (v128.load (local.get $pw))
          (f64x2.add (f64x2.mul (local.get $a0) (local.get $t0)) (f64x2.mul (local.get $a1) (local.get $t1)))))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (local.get $a0) (local.get $x))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (local.get $a1) (local.get $x))))
        (local.set $pv (i32.add (local.get $pv) (i32.const 16)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $pw (i32.add (local.get $pw) (i32.const 16)))
        (br $c)))
      (local.set $s0 (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0))))
      (local.set $s1 (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))
      (if (i32.and (i32.sub (local.get $r) (local.get $from)) (i32.const 1))
        (then
          (local.set $xv (f64.load (local.get $pv)))
          (local.set $d0 (f64.load (local.get $p0)))
          (local.set $d1 (f64.load (local.get $p1)))
          (f64.store (local.get $pw) (f64.add (f64.load (local.get $pw))
            (f64.add (f64.mul (local.get $d0) (local.get $c0)) (f64.mul (local.get $d1) (local.get $c1)))))
          (local.set $s0 (f64.add (local.get $s0) (f64.mul (local.get $d0) (local.get $xv))))
          (local.set $s1 (f64.add (local.get $s1) (f64.mul (local.get $d1) (local.get $xv))))
          (local.set $p0 (i32.add (local.get $p0) (i32.const 8)))
          (local.set $p1 (i32.add (local.get $p1) (i32.const 8)))
          (local.set $pw (i32.add (local.get $pw) (i32.const 8)))))
      ;; the 2×2 diagonal block: p0 → A[r][r], p1 → A[r+1][r], pw → w[r]
      (local.set $d1 (f64.load (local.get $p1)))
      (local.set $s0 (f64.add (local.get $s0)
        (f64.add (f64.mul (f64.load (local.get $p0)) (local.get $c0)) (f64.mul (local.get $d1) (local.get $c1)))))
      (local.set $s1 (f64.add (local.get $s1)
        (f64.add (f64.mul (local.get $d1) (local.get $c0)) (f64.mul (f64.load offset=8 (local.get $p1)) (local.get $c1)))))
      (f64.store (local.get $pw) (f64.add (f64.load (local.get $pw)) (local.get $s0)))
      (f64.store offset=8 (local.get $pw) (f64.add (f64.load offset=8 (local.get $pw)) (local.get $s1)))
      (local.set $r (i32.add (local.get $r) (i32.const 2)))
      (br $pair)))
    ;; an odd row left over
    (if (i32.lt_s (local.get $r) (local.get $n))
      (then
        (local.set $p0 (i32.add (local.get $a)
          (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $from)) (i32.const 3))))
        (local.set $pw (i32.add (local.get $w) (i32.shl (local.get $from) (i32.const 3))))
        (local.set $c0 (f64.load (i32.add (local.get $vb) (i32.shl (local.get $r) (i32.const 3)))))
        ;; the transposed products into w[from … r), the row's own dot, then the diagonal
        (call $axpy2 (local.get $pw) (local.get $p0) (f64.neg (local.get $c0)) (local.get $p0) (f64.const 0)
          (i32.sub (local.get $r) (local.get $from)))
        (local.set $s0 (f64.add (call $dot (local.get $p0) (local.get $v) (i32.sub (local.get $r) (local.get $from)))
          (f64.mul (f64.load (i32.add (local.get $p0) (i32.shl (i32.sub (local.get $r) (local.get $from)) (i32.const 3))))
            (local.get $c0))))
        (f64.store (i32.add (local.get $w) (i32.shl (local.get $r) (i32.const 3)))
          (f64.add (f64.load (i32.add (local.get $w) (i32.shl (local.get $r) (i32.const 3)))) (local.get $s0))))))

  ;; A[s + r][s + c] -= P[r L + c] for r, c < L: the trailing update's product subtracted in place.
  (func (export "subTrailing") (param $a i32) (param $n i32) (param $s i32) (param $P i32) (param $L i32)
    (local $r i32) (local $y i32) (local $end i32) (local $vend i32)
    (block $rows (loop $row
      (br_if $rows (i32.ge_s (local.get $r) (local.get $L)))
      (local.set $y (i32.add (local.get $a)
        (i32.shl (i32.add (i32.mul (i32.add (local.get $s) (local.get $r)) (local.get $n)) (local.get $s)) (i32.const 3))))
      (local.set $end (i32.add (local.get $y) (i32.shl (local.get $L) (i32.const 3))))
      (local.set $vend (i32.add (local.get $y) (i32.shl (i32.and (local.get $L) (i32.const -2)) (i32.const 3))))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $y) (local.get $vend)))
        (v128.store (local.get $y) (f64x2.sub (v128.load (local.get $y)) (v128.load (local.get $P))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $P (i32.add (local.get $P) (i32.const 16)))
        (br $v)))
      (if (i32.lt_u (local.get $y) (local.get $end))
        (then
          (f64.store (local.get $y) (f64.sub (f64.load (local.get $y)) (f64.load (local.get $P))))
          (local.set $P (i32.add (local.get $P) (i32.const 8)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row))))
)
