;; Pillow's 8-bit convolution resize (resample.ts defines it) for interleaved RGB, and CLIP's
;; normalisation, four 32-bit lanes at a time (WebAssembly SIMD). The arithmetic is Pillow's own:
;; 22-bit fixed-point coefficients multiplied into 32-bit integer sums that start at the rounding
;; offset, shifted down and clamped to 0..255 (here by the saturating narrowings), so the bytes are the
;; JavaScript loops' bytes. Only the output pixels a centre crop keeps are computed.
;; Pointers are byte offsets into the imported memory. Loads and stores may run up to 15 bytes past a
;; row's last byte: the caller leaves that much room after every buffer.
;; Regenerate u8-kernels-wasm.ts with `node scripts/build-kernels.mjs`.
(module
  (import "env" "memory" (memory 1))

  ;; Horizontal pass over `rows` rows of 3-byte pixels: for each output column xx < ncols, with
  ;; bounds[2xx] = first source pixel, bounds[2xx+1] = tap count and ksize coefficients at kk + 4·ksize·xx,
  ;; dst[xx] = clip8(HALF + Σ src[xmin + x] · kk[x]) per channel. One tap adds one 4-lane product
  ;; (R, G, B and the next pixel's R, whose lane is dropped).
  (func (export "hpass3") (param $src i32) (param $srcStride i32) (param $rows i32) (param $dst i32)
        (param $ncols i32) (param $bounds i32) (param $kk i32) (param $ksize i32)
    (local $r i32) (local $xx i32) (local $p i32) (local $n i32) (local $k i32) (local $acc v128)
    (local $d i32) (local $b i32) (local $kstep i32)
    (local.set $kstep (i32.shl (local.get $ksize) (i32.const 2)))
    (local.set $d (local.get $dst))
    (block $rdone (loop $rl
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $xx (i32.const 0))
      (local.set $b (local.get $bounds))
      (local.set $k (local.get $kk))
      (block $xdone (loop $xl
        (br_if $xdone (i32.ge_u (local.get $xx) (local.get $ncols)))
        (local.set $p (i32.add (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $srcStride)))
                               (i32.mul (i32.load (local.get $b)) (i32.const 3))))
        (local.set $n (i32.load offset=4 (local.get $b)))
        (local.set $acc (i32x4.splat (i32.const 2097152)))
        (block $tdone (loop $tl
          (br_if $tdone (i32.eqz (local.get $n)))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.mul (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                       (i32x4.splat (i32.load (local.get $k))))))
          (local.set $p (i32.add (local.get $p) (i32.const 3)))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $tl)))
        (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
        (local.set $acc (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)))
        (v128.store32_lane 0 (local.get $d) (i8x16.narrow_i16x8_u (local.get $acc) (local.get $acc)))
        ;; the next pixel's coefficients start a whole row of ksize after this one's first
        (local.set $k (i32.add (local.get $kk) (i32.mul (i32.add (local.get $xx) (i32.const 1)) (local.get $kstep))))
        (local.set $d (i32.add (local.get $d) (i32.const 3)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
        (br $xl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl))))

  ;; Vertical pass: output row yy < rows (dst + yy·nbytes) from source rows src + (bounds[2yy] − rowOffset)·stride
  ;; onwards, bounds[2yy+1] of them, ksize coefficients per output row at kk; nbytes bytes per row, 16 at a time.
  (func (export "vpass") (param $src i32) (param $stride i32) (param $rowOffset i32) (param $dst i32)
        (param $nbytes i32) (param $rows i32) (param $bounds i32) (param $kk i32) (param $ksize i32)
    (local $yy i32) (local $i i32) (local $p i32) (local $n i32) (local $k i32) (local $kv v128) (local $v v128)
    (local $lo v128) (local $hi v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $row i32) (local $d i32) (local $kk0 i32)
    (block $ydone (loop $yl
      (br_if $ydone (i32.ge_u (local.get $yy) (local.get $rows)))
      (local.set $row (i32.add (local.get $src)
        (i32.mul (i32.sub (i32.load (local.get $bounds)) (local.get $rowOffset)) (local.get $stride))))
      (local.set $kk0 (i32.add (local.get $kk) (i32.shl (i32.mul (local.get $yy) (local.get $ksize)) (i32.const 2))))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $yy) (local.get $nbytes))))
      (local.set $i (i32.const 0))
      (block $idone (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $nbytes)))
        (local.set $a0 (i32x4.splat (i32.const 2097152)))
        (local.set $a1 (local.get $a0))
        (local.set $a2 (local.get $a0))
        (local.set $a3 (local.get $a0))
        (local.set $p (i32.add (local.get $row) (local.get $i)))
        (local.set $k (local.get $kk0))
        (local.set $n (i32.load offset=4 (local.get $bounds)))
        (block $tdone (loop $tl
          (br_if $tdone (i32.eqz (local.get $n)))
          (local.set $kv (i32x4.splat (i32.load (local.get $k))))
          (local.set $v (v128.load (local.get $p)))
          (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
          (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $kv))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $kv))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $kv))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $kv))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $tl)))
        (v128.store (i32.add (local.get $d) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $il)))
      (local.set $bounds (i32.add (local.get $bounds) (i32.const 8)))
      (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
      (br $yl))))

  ;; n interleaved RGB bytes at $rgb → three float32 planes (out, out + plane, out + 2·plane bytes),
  ;; each byte looked up in its channel's 256 floats at lut, lut + 1024, lut + 2048.
  (func (export "normalize3") (param $rgb i32) (param $n i32) (param $lut i32) (param $out i32) (param $plane i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $rgb) (i32.mul (local.get $n) (i32.const 3))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $rgb) (local.get $end)))
      (f32.store (local.get $out)
        (f32.load (i32.add (local.get $lut) (i32.shl (i32.load8_u (local.get $rgb)) (i32.const 2)))))
      (f32.store (i32.add (local.get $out) (local.get $plane))
        (f32.load offset=1024 (i32.add (local.get $lut) (i32.shl (i32.load8_u offset=1 (local.get $rgb)) (i32.const 2)))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $plane) (i32.const 1)))
        (f32.load offset=2048 (i32.add (local.get $lut) (i32.shl (i32.load8_u offset=2 (local.get $rgb)) (i32.const 2)))))
      (local.set $rgb (i32.add (local.get $rgb) (i32.const 3)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $l))))
)
