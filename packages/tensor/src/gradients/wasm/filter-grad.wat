;; The filter gradient of a Conv2D (NHWC) in WebAssembly SIMD:
;;   dW[ky,kx,c,o] = Σ_{b,y,x} X[b, y·sh + ky·dh − pt, x·sw + kx·dw − pl, c] · dY[b,y,x,o]
;; (terms outside X are zero). Per tap this is a product Xᵀ·dY whose inner
;; dimension is every output pixel and whose result is only c×o: the kernel
;; keeps a 2-channel × 16-output block of dW in eight v128 accumulators,
;; broadcasts the two x values of a pixel and loads its 16 dy values as four
;; vectors. The output is walked in tiles of `tile` rows × `tcols` columns
;; (all taps, channels and outputs of a tile before the next), so that a
;; tile's X and dY pixels stay in cache across the passes over it.
;;
;; The module imports its memory: the host (filter-grad.ts) instantiates it on
;; tfjs-backend-wasm's own Emscripten memory, so x, dy and the output are the
;; backend's tensors in place (pointers are their byte offsets). The import
;; line below is the non-shared variant; build-kernels.mjs also assembles a
;; variant importing a shared memory (the backend's multi-threaded build).
;; Every load and store stays inside x, dy and the output: the last partial
;; vector of a row of c or o floats is read and written lane by lane.
;; Assembled into kernels-wasm.ts by build-kernels.mjs (wabt's wat2wasm):
;; `npx -y pnpm@10.34.8 build:wasm`; a test checks the committed bytes.
(module
  (import "env" "memory" (memory 1)) ;; MEMORY-IMPORT

  ;; out[0..kh·kw·ci·co) = dW for x [n,h,w,ci], dy [n,ho,wo,co] (float32, NHWC):
  ;; its filter rows [ky0, ky1) (parts with no filter row in common write no
  ;; float in common).
  (func (export "filterGrad")
    (param $x i32) (param $dy i32) (param $out i32)
    (param $n i32) (param $h i32) (param $w i32) (param $ci i32)
    (param $ho i32) (param $wo i32) (param $co i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (param $dh i32) (param $dw i32) (param $pt i32) (param $pl i32) (param $tile i32)
    (param $tcols i32) (param $ky0 i32) (param $ky1 i32)
    (local $b i32) (local $y0 i32) (local $y1 i32) (local $x0 i32) (local $x1 i32)
    (local $ky i32) (local $kx i32)
    (local $offy i32) (local $offx i32) (local $ya i32) (local $yb i32)
    (local $xa i32) (local $xb i32) (local $t i32) (local $ci4 i32) (local $co4 i32)
    (local.set $ci4 (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $co4 (i32.shl (local.get $co) (i32.const 2)))
    (memory.fill
      (i32.add (local.get $out)
        (i32.mul (i32.mul (i32.mul (local.get $ky0) (local.get $kw)) (local.get $ci)) (local.get $co4)))
      (i32.const 0)
      (i32.mul (i32.mul (i32.mul (i32.sub (local.get $ky1) (local.get $ky0)) (local.get $kw)) (local.get $ci)) (local.get $co4)))
    (block $bb (loop $lb
      (br_if $bb (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $y0 (i32.const 0))
      (block $bt (loop $lt
        (br_if $bt (i32.ge_s (local.get $y0) (local.get $ho)))
        (local.set $y1 (i32.add (local.get $y0) (local.get $tile)))
        (if (i32.gt_s (local.get $y1) (local.get $ho)) (then (local.set $y1 (local.get $ho))))
        (local.set $x0 (i32.const 0))
        (block $bxt (loop $lxt
        (br_if $bxt (i32.ge_s (local.get $x0) (local.get $wo)))
        (local.set $x1 (i32.add (local.get $x0) (local.get $tcols)))
        (if (i32.gt_s (local.get $x1) (local.get $wo)) (then (local.set $x1 (local.get $wo))))
        (local.set $ky (local.get $ky0))
        (block $bky (loop $lky
          (br_if $bky (i32.ge_s (local.get $ky) (local.get $ky1)))
          ;; input row of output row y: y·sh + offy; valid rows [ya, yb) of the tile
          (local.set $offy (i32.sub (i32.mul (local.get $dh) (local.get $ky)) (local.get $pt)))
          (local.set $ya (local.get $y0))
          (if (i32.lt_s (local.get $offy) (i32.const 0))
            (then
              (local.set $t (i32.div_s
                (i32.add (i32.sub (i32.const 0) (local.get $offy)) (i32.sub (local.get $sh) (i32.const 1)))
                (local.get $sh)))
              (if (i32.gt_s (local.get $t) (local.get $ya)) (then (local.set $ya (local.get $t))))))
          (local.set $t (i32.sub (i32.sub (local.get $h) (i32.const 1)) (local.get $offy)))
          (local.set $yb
            (if (result i32) (i32.lt_s (local.get $t) (i32.const 0))
              (then (i32.const 0))
              (else (i32.add (i32.div_s (local.get $t) (local.get $sh)) (i32.const 1)))))
          (if (i32.gt_s (local.get $yb) (local.get $y1)) (then (local.set $yb (local.get $y1))))
          (if (i32.lt_s (local.get $ya) (local.get $yb))
            (then
              (local.set $kx (i32.const 0))
              (block $bkx (loop $lkx
                (br_if $bkx (i32.ge_s (local.get $kx) (local.get $kw)))
                ;; input column of output column x: x·sw + offx; valid columns [xa, xb) of the tile
                (local.set $offx (i32.sub (i32.mul (local.get $dw) (local.get $kx)) (local.get $pl)))
                (local.set $xa (local.get $x0))
                (if (i32.lt_s (local.get $offx) (i32.const 0))
                  (then
                    (local.set $t (i32.div_s
                      (i32.add (i32.sub (i32.const 0) (local.get $offx)) (i32.sub (local.get $sw) (i32.const 1)))
                      (local.get $sw)))
                    (if (i32.gt_s (local.get $t) (local.get $xa)) (then (local.set $xa (local.get $t))))))
                (local.set $t (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $offx)))
                (local.set $xb
                  (if (result i32) (i32.lt_s (local.get $t) (i32.const 0))
                    (then (i32.const 0))
                    (else (i32.add (i32.div_s (local.get $t) (local.get $sw)) (i32.const 1)))))
                (if (i32.gt_s (local.get $xb) (local.get $x1)) (then (local.set $xb (local.get $x1))))
                (if (i32.lt_s (local.get $xa) (local.get $xb))
                  (then
                    (call $tap
                      ;; &X[b, ya·sh + offy, xa·sw + offx, 0]
                      (i32.add (local.get $x) (i32.mul (local.get $ci4)
                        (i32.add
                          (i32.mul
                            (i32.add (i32.mul (local.get $b) (local.get $h))
                              (i32.add (i32.mul (local.get $ya) (local.get $sh)) (local.get $offy)))
                            (local.get $w))
                          (i32.add (i32.mul (local.get $xa) (local.get $sw)) (local.get $offx)))))
                      ;; &dY[b, ya, xa, 0]
                      (i32.add (local.get $dy) (i32.mul (local.get $co4)
                        (i32.add
                          (i32.mul
                            (i32.add (i32.mul (local.get $b) (local.get $ho)) (local.get $ya))
                            (local.get $wo))
                          (local.get $xa))))
                      ;; &dW[ky, kx, 0, 0]
                      (i32.add (local.get $out) (i32.mul (local.get $co4)
                        (i32.mul (local.get $ci)
                          (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx)))))
                      (local.get $ci) (local.get $co)
                      (i32.sub (local.get $yb) (local.get $ya))
                      (i32.sub (local.get $xb) (local.get $xa))
                      (i32.mul (i32.mul (local.get $sh) (local.get $w)) (local.get $ci4))
                      (i32.mul (local.get $sw) (local.get $ci4))
                      (i32.mul (local.get $wo) (local.get $co4)))))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br $lkx)))))
          (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
          (br $lky)))
        (local.set $x0 (local.get $x1))
        (br $lxt)))
        (local.set $y0 (local.get $y1))
        (br $lt)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $lb))))

  ;; One tap over a rows × cols window: out[c, o] += Σ xs[r, q, c] · ds[r, q, o]
  ;; with xs[r, q] at xp + r·xrs + q·xcs and ds[r, q] at dp + r·drs + q·co·4
  ;; (byte strides), for every c < ci and o < co.
  (func $tap
    (param $xp i32) (param $dp i32) (param $op i32) (param $ci i32) (param $co i32)
    (param $rows i32) (param $cols i32) (param $xrs i32) (param $xcs i32) (param $drs i32)
    (local $c i32) (local $o i32) (local $dc i32) (local $oa i32) (local $ob i32)
    (local $co4 i32) (local $lanes i32)
    (local.set $co4 (i32.shl (local.get $co) (i32.const 2)))
    (block $bc (loop $lc
      (br_if $bc (i32.ge_s (local.get $c) (local.get $ci)))
      ;; channels c and c + 1 (c twice for an odd last channel: both
      ;; accumulators then hold the same sums and write the same row)
      (local.set $dc (select (i32.const 4) (i32.const 0)
        (i32.lt_s (i32.add (local.get $c) (i32.const 1)) (local.get $ci))))
      (local.set $oa (i32.add (local.get $op) (i32.mul (local.get $c) (local.get $co4))))
      (local.set $ob (i32.add (local.get $oa) (select (local.get $co4) (i32.const 0) (local.get $dc))))
      (local.set $o (i32.const 0))
      (block $b16 (loop $l16
        (br_if $b16 (i32.gt_s (i32.add (local.get $o) (i32.const 16)) (local.get $co)))
        (call $block16
          (i32.add (local.get $xp) (i32.shl (local.get $c) (i32.const 2))) (local.get $dc)
          (i32.add (local.get $dp) (i32.shl (local.get $o) (i32.const 2)))
          (i32.add (local.get $oa) (i32.shl (local.get $o) (i32.const 2)))
          (i32.add (local.get $ob) (i32.shl (local.get $o) (i32.const 2)))
          (local.get $rows) (local.get $cols) (local.get $xrs) (local.get $xcs) (local.get $drs)
          (local.get $co4))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l16)))
      (block $b4 (loop $l4
        (br_if $b4 (i32.ge_s (local.get $o) (local.get $co)))
        (local.set $lanes (i32.sub (local.get $co) (local.get $o)))
        (if (i32.gt_s (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
        (call $block4
          (i32.add (local.get $xp) (i32.shl (local.get $c) (i32.const 2))) (local.get $dc)
          (i32.add (local.get $dp) (i32.shl (local.get $o) (i32.const 2)))
          (i32.add (local.get $oa) (i32.shl (local.get $o) (i32.const 2)))
          (i32.add (local.get $ob) (i32.shl (local.get $o) (i32.const 2)))
          (local.get $rows) (local.get $cols) (local.get $xrs) (local.get $xcs) (local.get $drs)
          (local.get $co4) (local.get $lanes))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $l4)))
      (local.set $c (i32.add (local.get $c) (i32.const 2)))
      (br $lc))))

  ;; Two channels (x at xp and xp + dc) × 16 outputs (dy at dp): adds the
  ;; window's sums to the 16 floats at oa and at ob.
  (func $block16
    (param $xp i32) (param $dc i32) (param $dp i32) (param $oa i32) (param $ob i32)
    (param $rows i32) (param $cols i32) (param $xrs i32) (param $xcs i32) (param $drs i32)
    (param $co4 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $s v128)
    (local $px i32) (local $pd i32) (local $end i32) (local $r i32) (local $span i32)
    (local.set $a0 (v128.load offset=0 (local.get $oa)))
    (local.set $a1 (v128.load offset=16 (local.get $oa)))
    (local.set $a2 (v128.load offset=32 (local.get $oa)))
    (local.set $a3 (v128.load offset=48 (local.get $oa)))
    (local.set $b0 (v128.load offset=0 (local.get $ob)))
    (local.set $b1 (v128.load offset=16 (local.get $ob)))
    (local.set $b2 (v128.load offset=32 (local.get $ob)))
    (local.set $b3 (v128.load offset=48 (local.get $ob)))
    (local.set $span (i32.mul (local.get $cols) (local.get $co4)))
    (block $br (loop $lr
      (br_if $br (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $px (local.get $xp))
      (local.set $pd (local.get $dp))
      (local.set $end (i32.add (local.get $dp) (local.get $span)))
      (loop $lq
        (local.set $d0 (v128.load offset=0 (local.get $pd)))
        (local.set $d1 (v128.load offset=16 (local.get $pd)))
        (local.set $d2 (v128.load offset=32 (local.get $pd)))
        (local.set $d3 (v128.load offset=48 (local.get $pd)))
        (local.set $s (v128.load32_splat (local.get $px)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d2))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d3))))
        (local.set $s (v128.load32_splat (i32.add (local.get $px) (local.get $dc))))
        (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s) (local.get $d2))))
        (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s) (local.get $d3))))
        (local.set $px (i32.add (local.get $px) (local.get $xcs)))
        (local.set $pd (i32.add (local.get $pd) (local.get $co4)))
        (br_if $lq (i32.lt_u (local.get $pd) (local.get $end))))
      (local.set $xp (i32.add (local.get $xp) (local.get $xrs)))
      (local.set $dp (i32.add (local.get $dp) (local.get $drs)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr)))
    (v128.store offset=0 (local.get $oa) (local.get $a0))
    (v128.store offset=16 (local.get $oa) (local.get $a1))
    (v128.store offset=32 (local.get $oa) (local.get $a2))
    (v128.store offset=48 (local.get $oa) (local.get $a3))
    (v128.store offset=0 (local.get $ob) (local.get $b0))
    (v128.store offset=16 (local.get $ob) (local.get $b1))
    (v128.store offset=32 (local.get $ob) (local.get $b2))
    (v128.store offset=48 (local.get $ob) (local.get $b3)))

  ;; As $block16 for `lanes` (1 to 4) outputs.
  (func $block4
    (param $xp i32) (param $dc i32) (param $dp i32) (param $oa i32) (param $ob i32)
    (param $rows i32) (param $cols i32) (param $xrs i32) (param $xcs i32) (param $drs i32)
    (param $co4 i32) (param $lanes i32)
    (local $a v128) (local $b v128) (local $d v128)
    (local $px i32) (local $pd i32) (local $end i32) (local $r i32) (local $span i32)
    (local.set $a (call $load (local.get $oa) (local.get $lanes)))
    (local.set $b (call $load (local.get $ob) (local.get $lanes)))
    (local.set $span (i32.mul (local.get $cols) (local.get $co4)))
    (block $br (loop $lr
      (br_if $br (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $px (local.get $xp))
      (local.set $pd (local.get $dp))
      (local.set $end (i32.add (local.get $dp) (local.get $span)))
      (loop $lq
        (local.set $d (call $load (local.get $pd) (local.get $lanes)))
        (local.set $a (f32x4.add (local.get $a)
          (f32x4.mul (v128.load32_splat (local.get $px)) (local.get $d))))
        (local.set $b (f32x4.add (local.get $b)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $px) (local.get $dc))) (local.get $d))))
        (local.set $px (i32.add (local.get $px) (local.get $xcs)))
        (local.set $pd (i32.add (local.get $pd) (local.get $co4)))
        (br_if $lq (i32.lt_u (local.get $pd) (local.get $end))))
      (local.set $xp (i32.add (local.get $xp) (local.get $xrs)))
      (local.set $dp (i32.add (local.get $dp) (local.get $drs)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr)))
    (call $store (local.get $oa) (local.get $a) (local.get $lanes))
    (call $store (local.get $ob) (local.get $b) (local.get $lanes)))

  ;; The first `lanes` (1 to 4) floats at p, zeros after.
  (func $load (param $p i32) (param $lanes i32) (result v128)
    (if (result v128) (i32.ge_s (local.get $lanes) (i32.const 4))
      (then (v128.load (local.get $p)))
      (else
        (if (result v128) (i32.eq (local.get $lanes) (i32.const 3))
          (then (f32x4.replace_lane 2 (v128.load64_zero (local.get $p)) (f32.load offset=8 (local.get $p))))
          (else
            (if (result v128) (i32.eq (local.get $lanes) (i32.const 2))
              (then (v128.load64_zero (local.get $p)))
              (else (v128.load32_zero (local.get $p)))))))))

  ;; Stores the first `lanes` (1 to 4) lanes of v at p.
  (func $store (param $p i32) (param $v v128) (param $lanes i32)
    (if (i32.ge_s (local.get $lanes) (i32.const 4))
      (then (v128.store (local.get $p) (local.get $v)))
      (else
        (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
        (if (i32.ge_s (local.get $lanes) (i32.const 2))
          (then (f32.store offset=4 (local.get $p) (f32x4.extract_lane 1 (local.get $v)))))
        (if (i32.ge_s (local.get $lanes) (i32.const 3))
          (then (f32.store offset=8 (local.get $p) (f32x4.extract_lane 2 (local.get $v)))))))))
