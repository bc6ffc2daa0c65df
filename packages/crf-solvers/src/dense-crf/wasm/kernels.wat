;; Splat / blur / slice of the permutohedral lattice in WebAssembly SIMD.
;; All pointers are byte offsets into the module's own memory; arrays are
;; row-major with c float32 channels per row (rows need no alignment).
;; Assembled into kernels-wasm.ts by build-kernels.mjs (wabt's wat2wasm).
(module
  (memory (export "memory") 1)

  ;; buf[vtx[p,k]] += bary[p,k] * values[p]   for p < n, k < d1 (rows of c floats)
  (func (export "splat")
    (param $values i32) (param $c i32) (param $n i32) (param $d1 i32)
    (param $vtx i32) (param $bary i32) (param $buf i32)
    (local $p i32) (local $k i32) (local $o i32) (local $cb i32) (local $cb4 i32)
    (local $w f32) (local $wv v128) (local $row i32) (local $a i32)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $cb4 (i32.and (local.get $cb) (i32.const -16)))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $k (i32.const 0))
      (block $bk (loop $lk
        (br_if $bk (i32.ge_u (local.get $k) (local.get $d1)))
        (local.set $w (f32.load (local.get $bary)))
        (local.set $wv (f32x4.splat (local.get $w)))
        (local.set $row (i32.add (local.get $buf) (i32.mul (i32.load (local.get $vtx)) (local.get $cb))))
        (local.set $o (i32.const 0))
        (block $bv (loop $lv
          (br_if $bv (i32.ge_u (local.get $o) (local.get $cb4)))
          (local.set $a (i32.add (local.get $row) (local.get $o)))
          (v128.store (local.get $a)
            (f32x4.add (v128.load (local.get $a))
              (f32x4.mul (local.get $wv) (v128.load (i32.add (local.get $values) (local.get $o))))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br $lv)))
        (block $bs (loop $ls
          (br_if $bs (i32.ge_u (local.get $o) (local.get $cb)))
          (local.set $a (i32.add (local.get $row) (local.get $o)))
          (f32.store (local.get $a)
            (f32.add (f32.load (local.get $a))
              (f32.mul (local.get $w) (f32.load (i32.add (local.get $values) (local.get $o))))))
          (local.set $o (i32.add (local.get $o) (i32.const 4)))
          (br $ls)))
        (local.set $bary (i32.add (local.get $bary) (i32.const 4)))
        (local.set $vtx (i32.add (local.get $vtx) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $lk)))
      (local.set $values (i32.add (local.get $values) (local.get $cb)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))

  ;; dst[v] = src[v] + 0.5 * (src[nb[2v]] + src[nb[2v+1]])   for v < m
  (func (export "blur")
    (param $src i32) (param $dst i32) (param $c i32) (param $m i32) (param $nb i32)
    (local $v i32) (local $o i32) (local $cb i32) (local $cb4 i32)
    (local $s i32) (local $na i32) (local $nc i32) (local $half v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $cb4 (i32.and (local.get $cb) (i32.const -16)))
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $s (local.get $src))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $v) (local.get $m)))
      (local.set $na (i32.add (local.get $src) (i32.mul (i32.load (local.get $nb)) (local.get $cb))))
      (local.set $nc (i32.add (local.get $src) (i32.mul (i32.load offset=4 (local.get $nb)) (local.get $cb))))
      (local.set $o (i32.const 0))
      (block $bv (loop $lv
        (br_if $bv (i32.ge_u (local.get $o) (local.get $cb4)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f32x4.add (v128.load (i32.add (local.get $s) (local.get $o)))
            (f32x4.mul (local.get $half)
              (f32x4.add (v128.load (i32.add (local.get $na) (local.get $o)))
                         (v128.load (i32.add (local.get $nc) (local.get $o)))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $lv)))
      (block $bs (loop $ls
        (br_if $bs (i32.ge_u (local.get $o) (local.get $cb)))
        (f32.store (i32.add (local.get $dst) (local.get $o))
          (f32.add (f32.load (i32.add (local.get $s) (local.get $o)))
            (f32.mul (f32.const 0.5)
              (f32.add (f32.load (i32.add (local.get $na) (local.get $o)))
                       (f32.load (i32.add (local.get $nc) (local.get $o)))))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $ls)))
      (local.set $nb (i32.add (local.get $nb) (i32.const 8)))
      (local.set $s (i32.add (local.get $s) (local.get $cb)))
      (local.set $dst (i32.add (local.get $dst) (local.get $cb)))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (br $lp))))

;; out[p] = alpha * Σ_k bary[p,k] * buf[vtx[p,k]] + fix[p] * values[p]   for p < n
  ;; (chunk by chunk of four channels, the d1 vertices summed in a register)
  (func (export "slice")
    (param $buf i32) (param $values i32) (param $c i32) (param $n i32) (param $d1 i32)
    (param $vtx i32) (param $bary i32) (param $alpha f32) (param $fix i32) (param $out i32)
    (local $p i32) (local $k i32) (local $o i32) (local $cb i32) (local $cb4 i32) (local $kb i32)
    (local $acc v128) (local $sacc f32) (local $f f32) (local $fv v128) (local $av v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $cb4 (i32.and (local.get $cb) (i32.const -16)))
    (local.set $kb (i32.shl (local.get $d1) (i32.const 2)))
    (local.set $av (f32x4.splat (local.get $alpha)))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $f (f32.load (local.get $fix)))
      (local.set $fv (f32x4.splat (local.get $f)))
      (local.set $o (i32.const 0))
      (block $bv (loop $lv
        (br_if $bv (i32.ge_u (local.get $o) (local.get $cb4)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $bk (loop $lk
          (br_if $bk (i32.ge_u (local.get $k) (local.get $kb)))
          (local.set $acc (f32x4.add (local.get $acc)
            (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $bary) (local.get $k))))
              (v128.load (i32.add (local.get $o) (i32.add (local.get $buf)
                (i32.mul (i32.load (i32.add (local.get $vtx) (local.get $k))) (local.get $cb))))))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $lk)))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.add (f32x4.mul (local.get $av) (local.get $acc))
            (f32x4.mul (local.get $fv) (v128.load (i32.add (local.get $values) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $lv)))
      (block $bs (loop $ls
        (br_if $bs (i32.ge_u (local.get $o) (local.get $cb)))
        (local.set $sacc (f32.const 0))
        (local.set $k (i32.const 0))
        (block $bk2 (loop $lk2
          (br_if $bk2 (i32.ge_u (local.get $k) (local.get $kb)))
          (local.set $sacc (f32.add (local.get $sacc)
            (f32.mul (f32.load (i32.add (local.get $bary) (local.get $k)))
              (f32.load (i32.add (local.get $o) (i32.add (local.get $buf)
                (i32.mul (i32.load (i32.add (local.get $vtx) (local.get $k))) (local.get $cb))))))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $lk2)))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.add (f32.mul (local.get $alpha) (local.get $sacc))
            (f32.mul (local.get $f) (f32.load (i32.add (local.get $values) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $ls)))
      (local.set $bary (i32.add (local.get $bary) (local.get $kb)))
      (local.set $vtx (i32.add (local.get $vtx) (local.get $kb)))
      (local.set $fix (i32.add (local.get $fix) (i32.const 4)))
      (local.set $values (i32.add (local.get $values) (local.get $cb)))
      (local.set $out (i32.add (local.get $out) (local.get $cb)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))

  ;; ---- mean-field helpers (rows of k floats, n rows) ----

  ;; dst[p,l] = norm[p] * src[p,l]
  (func (export "scaleRows")
    (param $src i32) (param $norm i32) (param $dst i32) (param $n i32) (param $k i32)
    (local $p i32) (local $o i32) (local $kb i32) (local $kb4 i32) (local $s f32) (local $sv v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $kb4 (i32.and (local.get $kb) (i32.const -16)))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $s (f32.load (local.get $norm)))
      (local.set $sv (f32x4.splat (local.get $s)))
      (local.set $o (i32.const 0))
      (block $bv (loop $lv
        (br_if $bv (i32.ge_u (local.get $o) (local.get $kb4)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f32x4.mul (local.get $sv) (v128.load (i32.add (local.get $src) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $lv)))
      (block $bs (loop $ls
        (br_if $bs (i32.ge_u (local.get $o) (local.get $kb)))
        (f32.store (i32.add (local.get $dst) (local.get $o))
          (f32.mul (local.get $s) (f32.load (i32.add (local.get $src) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $ls)))
      (local.set $norm (i32.add (local.get $norm) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (local.get $kb)))
      (local.set $dst (i32.add (local.get $dst) (local.get $kb)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))

  ;; acc[p,l] += w * norm[p] * msg[p,l]   (Potts: the message rewards equal labels)
  (func (export "addScaledRows")
    (param $acc i32) (param $msg i32) (param $norm i32) (param $w f32) (param $n i32) (param $k i32)
    (local $p i32) (local $o i32) (local $kb i32) (local $kb4 i32) (local $s f32) (local $sv v128) (local $a i32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $kb4 (i32.and (local.get $kb) (i32.const -16)))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $p) (local.get $n)))
      (local.set $s (f32.mul (local.get $w) (f32.load (local.get $norm))))
      (local.set $sv (f32x4.splat (local.get $s)))
      (local.set $o (i32.const 0))
      (block $bv (loop $lv
        (br_if $bv (i32.ge_u (local.get $o) (local.get $kb4)))
        (local.set $a (i32.add (local.get $acc) (local.get $o)))
        (v128.store (local.get $a)
          (f32x4.add (v128.load (local.get $a))
            (f32x4.mul (local.get $sv) (v128.load (i32.add (local.get $msg) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $lv)))
      (block $bs (loop $ls
        (br_if $bs (i32.ge_u (local.get $o) (local.get $kb)))
        (local.set $a (i32.add (local.get $acc) (local.get $o)))
        (f32.store (local.get $a)
          (f32.add (f32.load (local.get $a))
            (f32.mul (local.get $s) (f32.load (i32.add (local.get $msg) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $ls)))
      (local.set $norm (i32.add (local.get $norm) (i32.const 4)))
      (local.set $acc (i32.add (local.get $acc) (local.get $kb)))
      (local.set $msg (i32.add (local.get $msg) (local.get $kb)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))

  ;; e^x (x ≤ 0 after the row max is subtracted, clamped at −87) below is
  ;; 2^n·2^f with n = round(x·log2 e) (by adding 1.5·2^23, whose float bits then
  ;; hold n + 0x4B400000), |f| ≤ ½, 2^f by its degree-6 Taylor polynomial:
  ;; relative error ≤ 1.3e-7 before float32 rounding.

  ;; q[p,:] = softmax(logits[p,:]), row by row: max, exp and sum, scale.
  (func (export "softmaxRows")
    (param $logits i32) (param $q i32) (param $n i32) (param $k i32)
    (local $p i32) (local $o i32) (local $kb i32) (local $kb4 i32)
    (local $mx f32) (local $s f32) (local $e f32)
    (local $mv v128) (local $sv v128) (local $ev v128) (local $t v128) (local $nv v128) (local $f v128)
    (local $ts f32) (local $ns f32) (local $fs f32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $kb4 (i32.and (local.get $kb) (i32.const -16)))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $p) (local.get $n)))
      ;; row max: four lanes, then across lanes, then the tail
      (local.set $mv (f32x4.splat (f32.load (local.get $logits))))
      (local.set $o (i32.const 0))
      (block $bm (loop $lm
        (br_if $bm (i32.ge_u (local.get $o) (local.get $kb4)))
        (local.set $mv (f32x4.max (local.get $mv) (v128.load (i32.add (local.get $logits) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $lm)))
      (local.set $mx (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $mv)) (f32x4.extract_lane 1 (local.get $mv)))
        (f32.max (f32x4.extract_lane 2 (local.get $mv)) (f32x4.extract_lane 3 (local.get $mv)))))
      (block $bm2 (loop $lm2
        (br_if $bm2 (i32.ge_u (local.get $o) (local.get $kb)))
        (local.set $mx (f32.max (local.get $mx) (f32.load (i32.add (local.get $logits) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $lm2)))
      ;; q = exp(logits − max), summed
      (local.set $mv (f32x4.splat (local.get $mx)))
      (local.set $sv (v128.const i32x4 0 0 0 0))
      (local.set $o (i32.const 0))
      (block $be (loop $le
        (br_if $be (i32.ge_u (local.get $o) (local.get $kb4)))
        ;; exp, inlined (see $exp4)
        (local.set $t (f32x4.mul
          (f32x4.max (f32x4.sub (v128.load (i32.add (local.get $logits) (local.get $o))) (local.get $mv))
                     (f32x4.splat (f32.const -87)))
          (f32x4.splat (f32.const 1.4426950408889634))))
        ;; round by the 1.5·2^23 trick: $nv holds round(t) in its low mantissa bits
        (local.set $nv (f32x4.add (local.get $t) (f32x4.splat (f32.const 12582912))))
        (local.set $f (f32x4.sub (local.get $t) (f32x4.sub (local.get $nv) (f32x4.splat (f32.const 12582912)))))
        (local.set $ev (f32x4.add (f32x4.splat (f32.const 1.3333558146428443e-3))
          (f32x4.mul (f32x4.splat (f32.const 1.5403530393381606e-4)) (local.get $f))))
        (local.set $ev (f32x4.add (f32x4.splat (f32.const 9.618129107628477e-3)) (f32x4.mul (local.get $ev) (local.get $f))))
        (local.set $ev (f32x4.add (f32x4.splat (f32.const 5.550410866482158e-2)) (f32x4.mul (local.get $ev) (local.get $f))))
        (local.set $ev (f32x4.add (f32x4.splat (f32.const 0.2402265069591007)) (f32x4.mul (local.get $ev) (local.get $f))))
        (local.set $ev (f32x4.add (f32x4.splat (f32.const 0.6931471805599453)) (f32x4.mul (local.get $ev) (local.get $f))))
        (local.set $ev (f32x4.add (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $ev) (local.get $f))))
        (local.set $ev (f32x4.mul (local.get $ev)
          (i32x4.shl (i32x4.sub (local.get $nv) (i32x4.splat (i32.const 0x4B3FFF81))) (i32.const 23))))
        (v128.store (i32.add (local.get $q) (local.get $o)) (local.get $ev))
        (local.set $sv (f32x4.add (local.get $sv) (local.get $ev)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $le)))
      (local.set $s (f32.add
        (f32.add (f32x4.extract_lane 0 (local.get $sv)) (f32x4.extract_lane 1 (local.get $sv)))
        (f32.add (f32x4.extract_lane 2 (local.get $sv)) (f32x4.extract_lane 3 (local.get $sv)))))
      (block $bt (loop $lt
        (br_if $bt (i32.ge_u (local.get $o) (local.get $kb)))
        ;; scalar exp, the same method as the vector one
        (local.set $ts (f32.mul
          (f32.max (f32.sub (f32.load (i32.add (local.get $logits) (local.get $o))) (local.get $mx)) (f32.const -87))
          (f32.const 1.4426950408889634)))
        (local.set $ns (f32.add (local.get $ts) (f32.const 12582912)))
        (local.set $fs (f32.sub (local.get $ts) (f32.sub (local.get $ns) (f32.const 12582912))))
        (local.set $e (f32.add (f32.const 1.3333558146428443e-3) (f32.mul (f32.const 1.5403530393381606e-4) (local.get $fs))))
        (local.set $e (f32.add (f32.const 9.618129107628477e-3) (f32.mul (local.get $e) (local.get $fs))))
        (local.set $e (f32.add (f32.const 5.550410866482158e-2) (f32.mul (local.get $e) (local.get $fs))))
        (local.set $e (f32.add (f32.const 0.2402265069591007) (f32.mul (local.get $e) (local.get $fs))))
        (local.set $e (f32.add (f32.const 0.6931471805599453) (f32.mul (local.get $e) (local.get $fs))))
        (local.set $e (f32.add (f32.const 1) (f32.mul (local.get $e) (local.get $fs))))
        (local.set $e (f32.mul (local.get $e) (f32.reinterpret_i32
          (i32.shl (i32.sub (i32.reinterpret_f32 (local.get $ns)) (i32.const 0x4B3FFF81)) (i32.const 23)))))
        (f32.store (i32.add (local.get $q) (local.get $o)) (local.get $e))
        (local.set $s (f32.add (local.get $s) (local.get $e)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $lt)))
      ;; scale by 1/sum
      (local.set $s (f32.div (f32.const 1) (local.get $s)))
      (local.set $sv (f32x4.splat (local.get $s)))
      (local.set $o (i32.const 0))
      (block $bn (loop $ln
        (br_if $bn (i32.ge_u (local.get $o) (local.get $kb4)))
        (v128.store (i32.add (local.get $q) (local.get $o))
          (f32x4.mul (local.get $sv) (v128.load (i32.add (local.get $q) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $ln)))
      (block $bn2 (loop $ln2
        (br_if $bn2 (i32.ge_u (local.get $o) (local.get $kb)))
        (f32.store (i32.add (local.get $q) (local.get $o))
          (f32.mul (local.get $s) (f32.load (i32.add (local.get $q) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $ln2)))
      (local.set $logits (i32.add (local.get $logits) (local.get $kb)))
      (local.set $q (i32.add (local.get $q) (local.get $kb)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))
;; ---- lattice construction: the enclosing simplex of each point ----

  ;; For point p (features f32 N×d): elevate by sf (f64 × d), find the nearest
  ;; remainder-0 point and the rank of the differential (Adams et al. 2010),
  ;; and write the barycentric weights (f32 N×d1), the d1 vertex keys (i32
  ;; N×d1×d, first d coordinates) and same[p] = 1 when p's simplex equals
  ;; p−1's. Scratch: el, rem (f64 × d1), rank (i32 × d1), bary (f64 × d+2),
  ;; prem (f64 × d1), prank (i32 × d1).
  (func (export "embed")
    (param $feat i32) (param $n i32) (param $d i32) (param $sf i32)
    (param $el i32) (param $rem i32) (param $rank i32) (param $bary i32)
    (param $prem i32) (param $prank i32)
    (param $outBary i32) (param $outKeys i32) (param $outSame i32)
    (local $p i32) (local $i i32) (local $j i32) (local $k i32) (local $d1 i32) (local $d1f f64)
    (local $sm f64) (local $cf f64) (local $e f64) (local $v f64) (local $up f64) (local $down f64)
    (local $r f64) (local $sum i32) (local $di f64) (local $t f64) (local $ri i32) (local $same i32)
    (local $a i32)
    (local.set $d1 (i32.add (local.get $d) (i32.const 1)))
    (local.set $d1f (f64.convert_i32_s (local.get $d1)))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_u (local.get $p) (local.get $n)))
      ;; elevate
      (local.set $sm (f64.const 0))
      (local.set $j (local.get $d))
      (block $be (loop $le
        (br_if $be (i32.le_s (local.get $j) (i32.const 0)))
        (local.set $cf (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $feat) (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 2)))))
          (f64.load (i32.add (local.get $sf) (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 3))))))
        (f64.store (i32.add (local.get $el) (i32.shl (local.get $j) (i32.const 3)))
          (f64.sub (local.get $sm) (f64.mul (f64.convert_i32_s (local.get $j)) (local.get $cf))))
        (local.set $sm (f64.add (local.get $sm) (local.get $cf)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $le)))
      (f64.store (local.get $el) (local.get $sm))
      ;; nearest remainder-0 point
      (local.set $sum (i32.const 0))
      (local.set $i (i32.const 0))
      (block $br (loop $lr
        (br_if $br (i32.ge_u (local.get $i) (local.get $d1)))
        (local.set $e (f64.load (i32.add (local.get $el) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $v (f64.div (local.get $e) (local.get $d1f)))
        (local.set $up (f64.mul (f64.ceil (local.get $v)) (local.get $d1f)))
        (local.set $down (f64.mul (f64.floor (local.get $v)) (local.get $d1f)))
        (local.set $r (select (local.get $up) (local.get $down)
          (f64.lt (f64.sub (local.get $up) (local.get $e)) (f64.sub (local.get $e) (local.get $down)))))
        (f64.store (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3))) (local.get $r))
        (local.set $sum (i32.add (local.get $sum) (i32.trunc_f64_s (f64.div (local.get $r) (local.get $d1f)))))
        (i32.store (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2))) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $lr)))
      ;; rank of the differential
      (local.set $i (i32.const 0))
      (block $bi (loop $li
        (br_if $bi (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $di (f64.sub (f64.load (i32.add (local.get $el) (i32.shl (local.get $i) (i32.const 3))))
                                (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $j (i32.add (local.get $i) (i32.const 1)))
        (block $bj (loop $lj
          (br_if $bj (i32.ge_u (local.get $j) (local.get $d1)))
          (if (f64.lt (local.get $di)
                (f64.sub (f64.load (i32.add (local.get $el) (i32.shl (local.get $j) (i32.const 3))))
                         (f64.load (i32.add (local.get $rem) (i32.shl (local.get $j) (i32.const 3))))))
            (then
              (local.set $a (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2))))
              (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1))))
            (else
              (local.set $a (i32.add (local.get $rank) (i32.shl (local.get $j) (i32.const 2))))
              (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $lj)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li)))
      ;; wrap the ranks when the remainder-0 point is off the plane
      (if (i32.ne (local.get $sum) (i32.const 0))
        (then
          (local.set $i (i32.const 0))
          (block $bw (loop $lw
            (br_if $bw (i32.ge_u (local.get $i) (local.get $d1)))
            (local.set $a (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $ri (i32.load (local.get $a)))
            (if (i32.gt_s (local.get $sum) (i32.const 0))
              (then
                (if (i32.ge_s (local.get $ri) (i32.sub (local.get $d1) (local.get $sum)))
                  (then
                    (i32.store (local.get $a) (i32.sub (local.get $ri) (i32.sub (local.get $d1) (local.get $sum))))
                    (f64.store (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))
                      (f64.sub (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))) (local.get $d1f))))
                  (else (i32.store (local.get $a) (i32.add (local.get $ri) (local.get $sum))))))
              (else
                (if (i32.lt_s (local.get $ri) (i32.sub (i32.const 0) (local.get $sum)))
                  (then
                    (i32.store (local.get $a) (i32.add (local.get $ri) (i32.add (local.get $d1) (local.get $sum))))
                    (f64.store (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))
                      (f64.add (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))) (local.get $d1f))))
                  (else (i32.store (local.get $a) (i32.add (local.get $ri) (local.get $sum)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $lw)))))
      ;; barycentric weights
      (local.set $k (i32.const 0))
      (block $bz (loop $lz
        (br_if $bz (i32.gt_u (local.get $k) (local.get $d1)))
        (f64.store (i32.add (local.get $bary) (i32.shl (local.get $k) (i32.const 3))) (f64.const 0))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $lz)))
      (local.set $i (i32.const 0))
      (block $bb (loop $lb
        (br_if $bb (i32.ge_u (local.get $i) (local.get $d1)))
        (local.set $t (f64.div
          (f64.sub (f64.load (i32.add (local.get $el) (i32.shl (local.get $i) (i32.const 3))))
                   (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))))
          (local.get $d1f)))
        (local.set $ri (i32.load (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $a (i32.add (local.get $bary) (i32.shl (i32.sub (local.get $d) (local.get $ri)) (i32.const 3))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $t)))
        (local.set $a (i32.add (local.get $bary) (i32.shl (i32.sub (local.get $d1) (local.get $ri)) (i32.const 3))))
        (f64.store (local.get $a) (f64.sub (f64.load (local.get $a)) (local.get $t)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $lb)))
      (f64.store (local.get $bary) (f64.add (f64.load (local.get $bary))
        (f64.add (f64.const 1) (f64.load (i32.add (local.get $bary) (i32.shl (local.get $d1) (i32.const 3)))))))
      (local.set $k (i32.const 0))
      (block $bo (loop $lo
        (br_if $bo (i32.ge_u (local.get $k) (local.get $d1)))
        (f32.store (i32.add (local.get $outBary) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $d1)) (local.get $k)) (i32.const 2)))
          (f32.demote_f64 (f64.load (i32.add (local.get $bary) (i32.shl (local.get $k) (i32.const 3))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $lo)))
      ;; same simplex as the previous point?
      (local.set $same (i32.gt_u (local.get $p) (i32.const 0)))
      (local.set $i (i32.const 0))
      (block $bs (loop $ls
        (br_if $bs (i32.ge_u (local.get $i) (local.get $d1)))
        (if (i32.or
              (f64.ne (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3))))
                      (f64.load (i32.add (local.get $prem) (i32.shl (local.get $i) (i32.const 3)))))
              (i32.ne (i32.load (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2))))
                      (i32.load (i32.add (local.get $prank) (i32.shl (local.get $i) (i32.const 2))))))
          (then (local.set $same (i32.const 0))))
        (f64.store (i32.add (local.get $prem) (i32.shl (local.get $i) (i32.const 3)))
          (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))))
        (i32.store (i32.add (local.get $prank) (i32.shl (local.get $i) (i32.const 2)))
          (i32.load (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $ls)))
      (i32.store (i32.add (local.get $outSame) (i32.shl (local.get $p) (i32.const 2))) (local.get $same))
      ;; the d1 vertex keys (only when the simplex is new)
      (if (i32.eqz (local.get $same))
        (then
          (local.set $k (i32.const 0))
          (block $bk (loop $lk
            (br_if $bk (i32.ge_u (local.get $k) (local.get $d1)))
            (local.set $i (i32.const 0))
            (block $bq (loop $lq
              (br_if $bq (i32.ge_u (local.get $i) (local.get $d)))
              (i32.store
                (i32.add (local.get $outKeys) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $d1)) (local.get $k)) (local.get $d)) (local.get $i))
                  (i32.const 2)))
                (i32.add (i32.trunc_f64_s (f64.load (i32.add (local.get $rem) (i32.shl (local.get $i) (i32.const 3)))))
                  (select (local.get $k) (i32.sub (local.get $k) (local.get $d1))
                    (i32.le_s (i32.load (i32.add (local.get $rank) (i32.shl (local.get $i) (i32.const 2))))
                              (i32.sub (local.get $d) (local.get $k))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $lq)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $lk)))))
      (local.set $feat (i32.add (local.get $feat) (i32.shl (local.get $d) (i32.const 2))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lp))))
)
