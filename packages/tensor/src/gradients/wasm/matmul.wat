;; Dense matrix products in WebAssembly SIMD:
;;   c[m×n] = op(a)·op(b)   (float32, row-major; op(a) = aᵀ when ta, a then
;;   stored [k×m]; op(b) = bᵀ when tb, b then stored [n×k])
;; with no transposes made explicit. Two forms:
;; - b's rows along n contiguous (not tb): the tiled form. A block of 5 rows
;;   × 8 columns of c in ten v128 accumulators; per step of k one a value per
;;   row splat times two vectors of b's row. Both operands packed first, so
;;   that a tile's step of k is read from one cache line and one page: b into
;;   panels of 8 columns, each contiguous along k (packPanels, once for all
;;   threads, from 16 rows of c on; below, b is read in place), a by blocks of
;;   256 steps of k × at most 120 rows into the part's scratch, step-major
;;   (the 5 values of a step one splat apart). c is loaded back between k
;;   blocks. Both transposed (ta and tb) is the same form on cᵀ = b·a, stored
;;   transposed. Measured against the 4 × 8 tile reading both in place (one
;;   thread, alternated, same bits): 100×1000×1000 5.8 → 5.4–5.7 ms, aᵀ·b at
;;   1000×100×1000 6.2 → 4.7 ms.
;; - b transposed only (tb), or a vector (n = 1, not ta): a dot-product form
;;   along k, read in place, where both a's rows and b's rows are contiguous:
;;   2 rows of a × 4 rows of b in eight accumulators of four partial sums,
;;   reduced by shuffles at the end.
;; On several threads a product is cut into parts by rows of c (`matmul`),
;; or, when b is the larger operand (m < n), by columns (`matmulCols`, which
;; packs its own panels, and `dotCols`): then each part reads a slice of b
;; and all of a instead of all of b.
;; Edges: a 4-row tile past the last row (or the last row of b) reads and
;; writes the last one again (same sums, same values); the last 1–3 columns,
;; and the last 1–3 steps of k in the dot form, are read and written lane by
;; lane. Every load and store stays inside a, b, c and the scratch.
;; `axpy` is an SGD update (c·x + y); `biasAct` a dense layer's bias and ReLU;
;; `colSum` sums the rows of a matrix (a bias gradient); `reluGrad` masks a
;; gradient by y > 0 (a ReLU's gradient).
;;
;; The module imports its memory: the host (matmul.ts) instantiates it on
;; tfjs-backend-wasm's own Emscripten memory, so operands and results are the
;; backend's tensors in place (pointers are their byte offsets). The import
;; line below is the non-shared variant; build-kernels.mjs also assembles a
;; variant importing a shared memory (the backend's multi-threaded build).
;; Assembled into kernels-wasm.ts by build-kernels.mjs (wabt's wat2wasm):
;; `npx -y pnpm@10.34.8 build:wasm`; a test checks the committed bytes.
(module
  (import "env" "memory" (memory 1)) ;; MEMORY-IMPORT

  ;; The rows of the product that `matmul` can compute apart (a thread each):
  ;; c's rows m, except with both transposes (the first form on cᵀ: n).
  (func (export "splitExtent") (param $m i32) (param $n i32) (param $ta i32) (param $tb i32) (result i32)
    (select (local.get $n) (local.get $m) (i32.and (local.get $ta) (local.get $tb))))

  ;; c[m×n] = op(a)·op(b) for a, b, c byte offsets of float32 matrices, or
  ;; the part of it in rows [r0, r1) of the split extent (see splitExtent):
  ;; parts with no row in common write no float in common.
  (func (export "matmul") (param $a i32) (param $b i32) (param $c i32)
    (param $m i32) (param $n i32) (param $k i32) (param $ta i32) (param $tb i32)
    (param $r0 i32) (param $r1 i32) (param $scratch i32) (param $panels i32)
    (local $rows i32)
    (local.set $rows (i32.sub (local.get $r1) (local.get $r0)))
    (if (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $n))) (then (return)))
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (if (i32.eqz (local.get $k)) (then
      (if (i32.and (local.get $ta) (local.get $tb)) (then
        ;; the split rows are c's columns: the first part zeroes all of c
        (if (i32.eqz (local.get $r0)) (then
          (memory.fill (local.get $c) (i32.const 0) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 2)))))
        (return)))
      (memory.fill (i32.add (local.get $c) (i32.shl (i32.mul (local.get $r0) (local.get $n)) (i32.const 2)))
        (i32.const 0) (i32.shl (i32.mul (local.get $rows) (local.get $n)) (i32.const 2)))
      (return)))
    (block $dotForm
      ;; a matrix times a vector: b [k×1] is stored as bᵀ [1×k], the dot form
      (br_if $dotForm (i32.and (i32.eq (local.get $n) (i32.const 1)) (i32.eqz (local.get $ta))))
      (if (i32.eqz (local.get $tb)) (then
        ;; the first form on rows [r0, r1) of c: a read at (lsr, lsk)
        (call $splat
          (i32.add (local.get $a) (i32.mul (local.get $r0)
            (select (i32.const 4) (i32.shl (local.get $k) (i32.const 2)) (local.get $ta))))
          (select (i32.const 4) (i32.shl (local.get $k) (i32.const 2)) (local.get $ta))
          (select (i32.shl (local.get $m) (i32.const 2)) (i32.const 4) (local.get $ta))
          (local.get $b) (i32.shl (local.get $n) (i32.const 2))
          (i32.add (local.get $c) (i32.shl (i32.mul (local.get $r0) (local.get $n)) (i32.const 2)))
          (i32.shl (local.get $n) (i32.const 2)) (i32.const 4)
          (local.get $rows) (local.get $n) (local.get $k) (local.get $scratch) (local.get $panels))
        (return)))
      (if (local.get $ta) (then
        ;; cᵀ[n×m] = b[n×k]·a[k×m], written transposed; rows [r0, r1) of cᵀ
        (call $splat
          (i32.add (local.get $b) (i32.mul (local.get $r0) (i32.shl (local.get $k) (i32.const 2))))
          (i32.shl (local.get $k) (i32.const 2)) (i32.const 4)
          (local.get $a) (i32.shl (local.get $m) (i32.const 2))
          (i32.add (local.get $c) (i32.shl (local.get $r0) (i32.const 2)))
          (i32.const 4) (i32.shl (local.get $n) (i32.const 2))
          (local.get $rows) (local.get $m) (local.get $k) (local.get $scratch) (local.get $panels))
        (return))))
    ;; the dot form (b transposed only, or a matrix times a vector, b [k×1]
    ;; being stored as bᵀ [1×k]) on rows [r0, r1) of a and c
    (call $dot
      (i32.add (local.get $a) (i32.mul (local.get $r0) (i32.shl (local.get $k) (i32.const 2))))
      (local.get $b)
      (i32.add (local.get $c) (i32.shl (i32.mul (local.get $r0) (local.get $n)) (i32.const 2)))
      (local.get $rows) (local.get $n) (local.get $k) (i32.shl (local.get $n) (i32.const 2))))

  ;; The dot form (a·bᵀ: a [m×k], b [n×k], c [m×n]) in columns [c0, c1) of c,
  ;; every row: the part reads rows [c0, c1) of b and all of a, where a split
  ;; by a's rows reads all of b in every part. Same sums as `matmul`.
  (func (export "dotCols") (param $a i32) (param $b i32) (param $c i32)
    (param $m i32) (param $n i32) (param $k i32) (param $c0 i32) (param $c1 i32)
    (if (i32.or (i32.le_s (local.get $c1) (local.get $c0)) (i32.eqz (local.get $m))) (then (return)))
    (call $dot
      (local.get $a)
      (i32.add (local.get $b) (i32.mul (local.get $c0) (i32.shl (local.get $k) (i32.const 2))))
      (i32.add (local.get $c) (i32.shl (local.get $c0) (i32.const 2)))
      (local.get $m) (i32.sub (local.get $c1) (local.get $c0)) (local.get $k)
      (i32.shl (local.get $n) (i32.const 2))))

  ;; c[m×n] = op(a)·b (b not transposed) in columns [c0, c1) of c, every row:
  ;; the first form on that slice of b (c0 a multiple of 8). With panels ≠ 0
  ;; the slice's panels (c0/8 to c1/8; packPanels' layout at panels) are
  ;; packed by this call first. Parts with no column in common write no float
  ;; in common; each reads a slice of b and all of a, where a row split reads
  ;; all of b in every part (the better split when b is the larger operand).
  ;; Each float of c is the same sum in the same order as in `matmul`.
  (func (export "matmulCols") (param $a i32) (param $b i32) (param $c i32)
    (param $m i32) (param $n i32) (param $k i32) (param $ta i32)
    (param $c0 i32) (param $c1 i32) (param $scratch i32) (param $panels i32)
    (if (i32.or (i32.le_s (local.get $c1) (local.get $c0))
          (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $k)))) (then (return)))
    (if (local.get $panels) (then
      (call $packPanels (local.get $b) (i32.shl (local.get $n) (i32.const 2)) (local.get $k)
        (i32.shr_u (local.get $c0) (i32.const 3)) (i32.shr_u (local.get $c1) (i32.const 3))
        (local.get $panels))
      (local.set $panels (i32.add (local.get $panels)
        (i32.mul (i32.shr_u (local.get $c0) (i32.const 3)) (i32.shl (local.get $k) (i32.const 5)))))))
    (call $splat
      (local.get $a)
      (select (i32.const 4) (i32.shl (local.get $k) (i32.const 2)) (local.get $ta))
      (select (i32.shl (local.get $m) (i32.const 2)) (i32.const 4) (local.get $ta))
      (i32.add (local.get $b) (i32.shl (local.get $c0) (i32.const 2))) (i32.shl (local.get $n) (i32.const 2))
      (i32.add (local.get $c) (i32.shl (local.get $c0) (i32.const 2)))
      (i32.shl (local.get $n) (i32.const 2)) (i32.const 4)
      (local.get $m) (i32.sub (local.get $c1) (local.get $c0)) (local.get $k)
      (local.get $scratch) (local.get $panels)))

  ;; One tile of the first form with 5 rows × 8 columns (ten accumulators):
  ;; as $tile8, with the 5 rows' values of one step of k contiguous, at pa +
  ;; 4i (a packed block), pa advancing by lsk bytes a step: one pointer for
  ;; the 5 rows, fewer instructions per multiply-add.
  (func $tile5 (param $pa i32) (param $lsk i32) (param $pb i32) (param $ldb i32) (param $kc i32)
    (param $pc i32) (param $csr i32) (param $csc i32) (param $acc i32)
    (local $c0_0 v128) (local $c0_1 v128) (local $c1_0 v128) (local $c1_1 v128) (local $c2_0 v128) (local $c2_1 v128) (local $c3_0 v128) (local $c3_1 v128) (local $c4_0 v128) (local $c4_1 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128) (local $q i32)
    (if (local.get $acc) (then
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 0))))
      (local.set $c0_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c0_1 (call $ld (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 1))))
      (local.set $c1_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c1_1 (call $ld (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 2))))
      (local.set $c2_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c2_1 (call $ld (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 3))))
      (local.set $c3_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c3_1 (call $ld (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 4))))
      (local.set $c4_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c4_1 (call $ld (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (i32.const 4) (local.get $csc)))
    ))
    (if (local.get $kc) (then (loop $k
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $s (v128.load32_splat offset=0 (local.get $pa)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c0_1 (f32x4.add (local.get $c0_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c1_0 (f32x4.add (local.get $c1_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c1_1 (f32x4.add (local.get $c1_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c2_0 (f32x4.add (local.get $c2_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c2_1 (f32x4.add (local.get $c2_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c3_0 (f32x4.add (local.get $c3_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c3_1 (f32x4.add (local.get $c3_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=16 (local.get $pa)))
      (local.set $c4_0 (f32x4.add (local.get $c4_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c4_1 (f32x4.add (local.get $c4_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (local.get $lsk)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 0))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c0_0))
        (v128.store offset=16 (local.get $q) (local.get $c0_1)))
      (else
        (call $st (local.get $q) (local.get $c0_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (local.get $c0_1) (i32.const 4) (local.get $csc))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 1))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c1_0))
        (v128.store offset=16 (local.get $q) (local.get $c1_1)))
      (else
        (call $st (local.get $q) (local.get $c1_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (local.get $c1_1) (i32.const 4) (local.get $csc))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 2))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c2_0))
        (v128.store offset=16 (local.get $q) (local.get $c2_1)))
      (else
        (call $st (local.get $q) (local.get $c2_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (local.get $c2_1) (i32.const 4) (local.get $csc))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 3))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c3_0))
        (v128.store offset=16 (local.get $q) (local.get $c3_1)))
      (else
        (call $st (local.get $q) (local.get $c3_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (local.get $c3_1) (i32.const 4) (local.get $csc))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (i32.const 4))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c4_0))
        (v128.store offset=16 (local.get $q) (local.get $c4_1)))
      (else
        (call $st (local.get $q) (local.get $c4_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.shl (local.get $csc) (i32.const 2))) (local.get $c4_1) (i32.const 4) (local.get $csc))))
  )
  ;; One tile of the first form: c[i, j] (+)= Σ_{q<kc} l[i, q]·r[q, j] for 4
  ;; rows i (fewer when rows < 4: the last one repeated) and 8 columns j, with
  ;; l[i, q] at pa + i·lsr + q·lsk, r[q, j] at pb + q·ldb + 4j (its row
  ;; contiguous), c[i, j] at pc + i·csr + j·csc (bytes). acc ≠ 0: add to c.
  (func $tile8 (param $pa i32) (param $lsr i32) (param $lsk i32) (param $pb i32) (param $ldb i32) (param $kc i32)
    (param $pc i32) (param $csr i32) (param $csc i32) (param $rows i32) (param $acc i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $c0_0 v128) (local $c0_1 v128) (local $c1_0 v128) (local $c1_1 v128) (local $c2_0 v128) (local $c2_1 v128) (local $c3_0 v128) (local $c3_1 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128) (local $q i32)
    (local.set $a0 (local.get $pa))
    (local.set $a1 (select (i32.add (local.get $a0) (local.get $lsr)) (local.get $a0) (i32.gt_s (local.get $rows) (i32.const 1))))
    (local.set $a2 (select (i32.add (local.get $a1) (local.get $lsr)) (local.get $a1) (i32.gt_s (local.get $rows) (i32.const 2))))
    (local.set $a3 (select (i32.add (local.get $a2) (local.get $lsr)) (local.get $a2) (i32.gt_s (local.get $rows) (i32.const 3))))
    (if (local.get $acc) (then
      (local.set $q (local.get $pc))
      (local.set $c0_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c0_1 (call $ld (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 1) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 1))))))
      (local.set $c1_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c1_1 (call $ld (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 2) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 2))))))
      (local.set $c2_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c2_1 (call $ld (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (i32.const 4) (local.get $csc)))
      (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 3) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 3))))))
      (local.set $c3_0 (call $ld (local.get $q) (i32.const 4) (local.get $csc)))
      (local.set $c3_1 (call $ld (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (i32.const 4) (local.get $csc)))
    ))
    (if (local.get $kc) (then (loop $k
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $a0)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c0_1 (f32x4.add (local.get $c0_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat (local.get $a1)))
      (local.set $c1_0 (f32x4.add (local.get $c1_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c1_1 (f32x4.add (local.get $c1_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat (local.get $a2)))
      (local.set $c2_0 (f32x4.add (local.get $c2_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c2_1 (f32x4.add (local.get $c2_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat (local.get $a3)))
      (local.set $c3_0 (f32x4.add (local.get $c3_0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c3_1 (f32x4.add (local.get $c3_1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $a0 (i32.add (local.get $a0) (local.get $lsk)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $lsk)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $lsk)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $lsk)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 3) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 3))))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c3_0))
        (v128.store offset=16 (local.get $q) (local.get $c3_1)))
      (else
        (call $st (local.get $q) (local.get $c3_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (local.get $c3_1) (i32.const 4) (local.get $csc))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 2) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 2))))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c2_0))
        (v128.store offset=16 (local.get $q) (local.get $c2_1)))
      (else
        (call $st (local.get $q) (local.get $c2_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (local.get $c2_1) (i32.const 4) (local.get $csc))))
    (local.set $q (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 1) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 1))))))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c1_0))
        (v128.store offset=16 (local.get $q) (local.get $c1_1)))
      (else
        (call $st (local.get $q) (local.get $c1_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (local.get $c1_1) (i32.const 4) (local.get $csc))))
    (local.set $q (local.get $pc))
    (if (i32.eq (local.get $csc) (i32.const 4))
      (then
        (v128.store offset=0 (local.get $q) (local.get $c0_0))
        (v128.store offset=16 (local.get $q) (local.get $c0_1)))
      (else
        (call $st (local.get $q) (local.get $c0_0) (i32.const 4) (local.get $csc))
        (call $st (i32.add (local.get $q) (i32.mul (local.get $csc) (i32.const 4))) (local.get $c0_1) (i32.const 4) (local.get $csc))))
  )
  ;; As $tile8 for 4 rows × `lanes` (1 to 4) columns.
  (func $tile4 (param $pa i32) (param $lsr i32) (param $lsk i32) (param $pb i32) (param $ldb i32) (param $kc i32)
    (param $pc i32) (param $csr i32) (param $csc i32) (param $rows i32) (param $acc i32) (param $lanes i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $b v128) (local $q i32)
    (local.set $a0 (local.get $pa))
    (local.set $a1 (select (i32.add (local.get $a0) (local.get $lsr)) (local.get $a0) (i32.gt_s (local.get $rows) (i32.const 1))))
    (local.set $a2 (select (i32.add (local.get $a1) (local.get $lsr)) (local.get $a1) (i32.gt_s (local.get $rows) (i32.const 2))))
    (local.set $a3 (select (i32.add (local.get $a2) (local.get $lsr)) (local.get $a2) (i32.gt_s (local.get $rows) (i32.const 3))))
    (if (local.get $acc) (then
      (local.set $c0 (call $ld (local.get $pc) (local.get $lanes) (local.get $csc)))
      (local.set $c1 (call $ld (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 1) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 1))))) (local.get $lanes) (local.get $csc)))
      (local.set $c2 (call $ld (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 2) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 2))))) (local.get $lanes) (local.get $csc)))
      (local.set $c3 (call $ld (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 3) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 3))))) (local.get $lanes) (local.get $csc)))
    ))
    (if (local.get $kc) (then (loop $k
      (local.set $b
        (if (result v128) (i32.ge_s (local.get $lanes) (i32.const 4))
          (then (v128.load (local.get $pb)))
          (else (if (result v128) (i32.eq (local.get $lanes) (i32.const 2))
            (then (v128.load64_zero (local.get $pb)))
            (else (if (result v128) (i32.eq (local.get $lanes) (i32.const 1))
              (then (v128.load32_zero (local.get $pb)))
              (else (f32x4.replace_lane 2 (v128.load64_zero (local.get $pb)) (f32.load offset=8 (local.get $pb))))))))))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $a0)) (local.get $b))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (v128.load32_splat (local.get $a1)) (local.get $b))))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (v128.load32_splat (local.get $a2)) (local.get $b))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (v128.load32_splat (local.get $a3)) (local.get $b))))
      (local.set $a0 (i32.add (local.get $a0) (local.get $lsk)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $lsk)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $lsk)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $lsk)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))))
    (call $st (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 3) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 3))))) (local.get $c3) (local.get $lanes) (local.get $csc))
    (call $st (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 2) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 2))))) (local.get $c2) (local.get $lanes) (local.get $csc))
    (call $st (i32.add (local.get $pc) (i32.mul (local.get $csr) (select (i32.const 1) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 1))))) (local.get $c1) (local.get $lanes) (local.get $csc))
    (call $st (local.get $pc) (local.get $c0) (local.get $lanes) (local.get $csc))
  )
  ;; The first form over a whole product: c[rows×cols] = l·r, l read at
  ;; strides (lsr, lsk), r's rows contiguous (ldb bytes apart), c at strides
  ;; (csr, csc); r's panels of 8 columns packed at `panels` (see packPanels)
  ;; or, when it is 0, read in place. Blocks of 256 steps of k × 120 rows at
  ;; most (rows split evenly, in 5s); l's block packed into scratch,
  ;; step-major (its rows at one step of k contiguous). Tiles of 8 columns ×
  ;; 5 rows (the last 1–4 rows: a 4-row tile), then of 4 columns and of the
  ;; last 1–3 (r read in place).
  (func $splat (param $l i32) (param $lsr i32) (param $lsk i32) (param $r i32) (param $ldb i32)
    (param $c i32) (param $csr i32) (param $csc i32) (param $rows i32) (param $cols i32) (param $k i32)
    (param $scratch i32) (param $panels i32)
    (local $k0 i32) (local $kc i32) (local $j i32) (local $i i32) (local $lanes i32) (local $i0 i32) (local $i1 i32)
    (local $j8 i32) (local $mr i32) (local $plsk i32) (local $pr i32) (local $pstep i32) (local $pnext i32)
    ;; rows per block: an even split into blocks of at most 120, rounded up to 5s
    (local.set $mr (i32.div_u (i32.add (local.get $rows) (i32.const 119)) (i32.const 120)))
    (local.set $mr (i32.div_u (i32.add (local.get $rows) (i32.sub (local.get $mr) (i32.const 1))) (local.get $mr)))
    (local.set $mr (i32.mul (i32.div_u (i32.add (local.get $mr) (i32.const 4)) (i32.const 5)) (i32.const 5)))
    (local.set $j8 (i32.and (local.get $cols) (i32.const -8)))
    ;; r's panel j / 8 at step q: packed, panels + (j / 8)·32k + 32q; in place, r + 4j + q·ldb
    (local.set $pstep (select (i32.const 32) (local.get $ldb) (local.get $panels)))
    (local.set $pnext (select (i32.shl (local.get $k) (i32.const 5)) (i32.const 32) (local.get $panels)))
    (loop $kb
      (local.set $kc (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_s (local.get $kc) (i32.const 256)) (then (local.set $kc (i32.const 256))))
      (local.set $i0 (i32.const 0))
      (loop $ib
      (local.set $i1 (i32.add (local.get $i0) (local.get $mr)))
      (if (i32.gt_s (local.get $i1) (local.get $rows)) (then (local.set $i1 (local.get $rows))))
      ;; l's rows [i0, i1) × steps [k0, k0 + kc) at scratch: row i − i0 at 4(i − i0), steps plsk bytes apart
      (local.set $plsk (i32.shl (i32.sub (local.get $i1) (local.get $i0)) (i32.const 2)))
      (call $pack
        (i32.add (local.get $l) (i32.add (i32.mul (local.get $i0) (local.get $lsr)) (i32.mul (local.get $k0) (local.get $lsk))))
        (local.get $lsr) (local.get $lsk) (i32.sub (local.get $i1) (local.get $i0)) (local.get $kc) (local.get $scratch))
      (local.set $j (i32.const 0))
      (local.set $pr (i32.add
        (select (local.get $panels) (local.get $r) (local.get $panels))
        (i32.mul (local.get $k0) (local.get $pstep))))
      (block $bj (loop $lj
        (br_if $bj (i32.ge_s (local.get $j) (local.get $j8)))
        (local.set $i (local.get $i0))
        (block $bi (loop $li
          (br_if $bi (i32.gt_s (i32.add (local.get $i) (i32.const 5)) (local.get $i1)))
          (call $tile5
            (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $i) (local.get $i0)) (i32.const 2)))
            (local.get $plsk) (local.get $pr) (local.get $pstep) (local.get $kc)
            (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $csr)) (i32.mul (local.get $j) (local.get $csc))))
            (local.get $csr) (local.get $csc) (local.get $k0))
          (local.set $i (i32.add (local.get $i) (i32.const 5)))
          (br $li)))
        (if (i32.lt_s (local.get $i) (local.get $i1)) (then (call $tile8
            (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $i) (local.get $i0)) (i32.const 2)))
            (i32.const 4) (local.get $plsk) (local.get $pr) (local.get $pstep) (local.get $kc)
            (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $csr)) (i32.mul (local.get $j) (local.get $csc))))
            (local.get $csr) (local.get $csc)
            (i32.sub (local.get $i1) (local.get $i)) (local.get $k0))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (local.set $pr (i32.add (local.get $pr) (local.get $pnext)))
        (br $lj)))
      (block $bj (loop $lj
        (br_if $bj (i32.ge_s (local.get $j) (local.get $cols)))
        (local.set $lanes (i32.sub (local.get $cols) (local.get $j)))
        (if (i32.gt_s (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
        (local.set $i (local.get $i0))
        (block $bi (loop $li
          (br_if $bi (i32.ge_s (local.get $i) (local.get $i1)))
          (call $tile4
            (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $i) (local.get $i0)) (i32.const 2)))
            (i32.const 4) (local.get $plsk)
            (i32.add (local.get $r) (i32.add (i32.mul (local.get $k0) (local.get $ldb)) (i32.shl (local.get $j) (i32.const 2))))
            (local.get $ldb) (local.get $kc)
            (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $csr)) (i32.mul (local.get $j) (local.get $csc))))
            (local.get $csr) (local.get $csc)
            (i32.sub (local.get $i1) (local.get $i)) (local.get $k0) (local.get $lanes))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $li)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $lj)))
      (local.set $i0 (local.get $i1))
      (br_if $ib (i32.lt_s (local.get $i0) (local.get $rows))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kb (i32.lt_s (local.get $k0) (local.get $k)))))
  ;; Panels [p0, p1) of 8 columns of r [k × ≥ 8·p1] (rows ldb bytes apart),
  ;; each step-major over all k steps (32 bytes a step): panel p at
  ;; dst + 32·k·p. The tiled form's right operand, packed once for all parts.
  (func $packPanels (export "packPanels") (param $r i32) (param $ldb i32) (param $k i32) (param $p0 i32) (param $p1 i32) (param $dst i32)
    (local $src i32) (local $end i32)
    (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $p0) (i32.shl (local.get $k) (i32.const 5)))))
    (local.set $r (i32.add (local.get $r) (i32.shl (local.get $p0) (i32.const 5))))
    (block $bp (loop $lp
      (br_if $bp (i32.ge_s (local.get $p0) (local.get $p1)))
      (local.set $src (local.get $r))
      (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 5))))
      (block $bq (loop $lq
        (br_if $bq (i32.ge_u (local.get $dst) (local.get $end)))
        (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $src)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $ldb)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $lq)))
      (local.set $r (i32.add (local.get $r) (i32.const 32)))
      (local.set $p0 (i32.add (local.get $p0) (i32.const 1)))
      (br $lp))))
  ;; dst[q·rows + i] = l[i·lsr + q·lsk] for rows i and kc steps q: a block of
  ;; l packed step-major (the 5-row tiles' layout), read row by row.
  (func $pack (param $l i32) (param $lsr i32) (param $lsk i32) (param $rows i32) (param $kc i32) (param $dst i32)
    (local $i i32) (local $src i32) (local $to i32) (local $end i32) (local $ld i32)
    (local.set $ld (i32.shl (local.get $rows) (i32.const 2)))
    (if (i32.eq (local.get $lsr) (i32.const 4)) (then
      ;; l read transposed: each step's rows are contiguous already
      (local.set $end (i32.add (local.get $dst) (i32.mul (local.get $kc) (local.get $ld))))
      (block $bq (loop $lq
        (br_if $bq (i32.ge_u (local.get $dst) (local.get $end)))
        (memory.copy (local.get $dst) (local.get $l) (local.get $ld))
        (local.set $l (i32.add (local.get $l) (local.get $lsk)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ld)))
        (br $lq)))
      (return)))
    (block $bi (loop $li
      (br_if $bi (i32.ge_s (local.get $i) (local.get $rows)))
      (local.set $src (i32.add (local.get $l) (i32.mul (local.get $i) (local.get $lsr))))
      (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
      (local.set $end (i32.add (local.get $to) (i32.mul (local.get $kc) (local.get $ld))))
      (block $bq (loop $lq
        (br_if $bq (i32.ge_u (local.get $to) (local.get $end)))
        (f32.store (local.get $to) (f32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $lsk)))
        (local.set $to (i32.add (local.get $to) (local.get $ld)))
        (br $lq)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $li))))
  ;; One tile of the dot form: c[i, j] = Σ_{q<k} a[i, q]·b[j, q] for 2 rows i
  ;; of a (rows < 2: repeated) and 4 rows j of b (cols < 4: the last one
  ;; repeated, the first `cols` stored), rows lda / ldb bytes apart, c's rows
  ;; ldc bytes apart.
  (func $dot2x4 (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32) (param $k i32)
    (param $pc i32) (param $ldc i32) (param $rows i32) (param $cols i32)
    (local $a0 i32) (local $x0 v128) (local $a1 i32) (local $x1 v128) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $c0_0 v128) (local $c0_1 v128) (local $c0_2 v128) (local $c0_3 v128) (local $c1_0 v128) (local $c1_1 v128) (local $c1_2 v128) (local $c1_3 v128) (local $y v128) (local $n i32) (local $t v128) (local $u v128)
    (local.set $a0 (local.get $pa))
    (local.set $a1 (select (i32.add (local.get $a0) (local.get $lda)) (local.get $a0) (i32.gt_s (local.get $rows) (i32.const 1))))
    (local.set $b0 (local.get $pb))
    (local.set $b1 (select (i32.add (local.get $b0) (local.get $ldb)) (local.get $b0) (i32.gt_s (local.get $cols) (i32.const 1))))
    (local.set $b2 (select (i32.add (local.get $b1) (local.get $ldb)) (local.get $b1) (i32.gt_s (local.get $cols) (i32.const 2))))
    (local.set $b3 (select (i32.add (local.get $b2) (local.get $ldb)) (local.get $b2) (i32.gt_s (local.get $cols) (i32.const 3))))
    (local.set $n (i32.shr_u (local.get $k) (i32.const 2)))
    (if (local.get $n) (then (loop $k
      (local.set $x0 (v128.load (local.get $a0)))
      (local.set $x1 (v128.load (local.get $a1)))
      (local.set $y (v128.load (local.get $b0)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_0 (f32x4.add (local.get $c1_0) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $y (v128.load (local.get $b1)))
      (local.set $c0_1 (f32x4.add (local.get $c0_1) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_1 (f32x4.add (local.get $c1_1) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $y (v128.load (local.get $b2)))
      (local.set $c0_2 (f32x4.add (local.get $c0_2) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_2 (f32x4.add (local.get $c1_2) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $y (v128.load (local.get $b3)))
      (local.set $c0_3 (f32x4.add (local.get $c0_3) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_3 (f32x4.add (local.get $c1_3) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $a0 (i32.add (local.get $a0) (i32.const 16)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 16)))
      (local.set $b0 (i32.add (local.get $b0) (i32.const 16)))
      (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
      (local.set $b2 (i32.add (local.get $b2) (i32.const 16)))
      (local.set $b3 (i32.add (local.get $b3) (i32.const 16)))
      (br_if $k (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
    (local.set $n (i32.and (local.get $k) (i32.const 3)))
    (if (local.get $n) (then (loop $r
      (local.set $x0 (v128.load32_zero (local.get $a0)))
      (local.set $x1 (v128.load32_zero (local.get $a1)))
      (local.set $y (v128.load32_zero (local.get $b0)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_0 (f32x4.add (local.get $c1_0) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $y (v128.load32_zero (local.get $b1)))
      (local.set $c0_1 (f32x4.add (local.get $c0_1) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_1 (f32x4.add (local.get $c1_1) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $y (v128.load32_zero (local.get $b2)))
      (local.set $c0_2 (f32x4.add (local.get $c0_2) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_2 (f32x4.add (local.get $c1_2) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $y (v128.load32_zero (local.get $b3)))
      (local.set $c0_3 (f32x4.add (local.get $c0_3) (f32x4.mul (local.get $x0) (local.get $y))))
      (local.set $c1_3 (f32x4.add (local.get $c1_3) (f32x4.mul (local.get $x1) (local.get $y))))
      (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
      (local.set $b0 (i32.add (local.get $b0) (i32.const 4)))
      (local.set $b1 (i32.add (local.get $b1) (i32.const 4)))
      (local.set $b2 (i32.add (local.get $b2) (i32.const 4)))
      (local.set $b3 (i32.add (local.get $b3) (i32.const 4)))
      (br_if $r (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
    (local.set $t (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $c1_0) (local.get $c1_1)) (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $c1_0) (local.get $c1_1))))
    (local.set $u (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $c1_2) (local.get $c1_3)) (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $c1_2) (local.get $c1_3))))
    (call $st (i32.add (local.get $pc) (i32.mul (local.get $ldc) (select (i32.const 1) (i32.sub (local.get $rows) (i32.const 1)) (i32.gt_s (local.get $rows) (i32.const 1)))))
      (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t) (local.get $u)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t) (local.get $u)))
      (select (i32.const 4) (local.get $cols) (i32.gt_s (local.get $cols) (i32.const 4))) (i32.const 4))
    (local.set $t (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $c0_0) (local.get $c0_1)) (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $c0_0) (local.get $c0_1))))
    (local.set $u (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 8 9 10 11 24 25 26 27 (local.get $c0_2) (local.get $c0_3)) (i8x16.shuffle 4 5 6 7 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $c0_2) (local.get $c0_3))))
    (call $st (local.get $pc)
      (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t) (local.get $u)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t) (local.get $u)))
      (select (i32.const 4) (local.get $cols) (i32.gt_s (local.get $cols) (i32.const 4))) (i32.const 4))
  )
  ;; c[m×n] = a·bᵀ for a [m×k] and b [n×k], c's rows ldc bytes apart: tiles
  ;; of 4 rows of b, and in each, of 2 rows of a (b's 4 rows stay in cache
  ;; across a's rows).
  (func $dot (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $ldc i32)
    (local $i i32) (local $j i32) (local $k4 i32)
    (local.set $k4 (i32.shl (local.get $k) (i32.const 2)))
    (block $bj (loop $lj
      (br_if $bj (i32.ge_s (local.get $j) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $bi (loop $li
        (br_if $bi (i32.ge_s (local.get $i) (local.get $m)))
        (call $dot2x4
          (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $k4))) (local.get $k4)
          (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $k4))) (local.get $k4) (local.get $k)
          (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2))))
          (local.get $ldc)
          (i32.sub (local.get $m) (local.get $i)) (i32.sub (local.get $n) (local.get $j)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $li)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $lj))))

;; c[i, j] = act(c[i, j] + bias[j]) in place for c [rows×cols] (row-major
  ;; float32), bias a byte offset (0: none), act = max(·, 0) when relu ≠ 0 (a
  ;; NaN stays NaN), else the identity: a dense layer's epilogue, run by
  ;; SegFusedMatMul on the product it has just written.
  (func (export "biasAct") (param $c i32) (param $bias i32) (param $rows i32) (param $cols i32) (param $relu i32)
    (local $end i32) (local $row i32) (local $p i32) (local $q i32) (local $v v128) (local $s f32) (local $ld i32) (local $c4 i32)
    (local.set $ld (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $c4 (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.add (local.get $c) (i32.mul (local.get $rows) (local.get $ld))))
    (local.set $row (local.get $c))
    (block $br (loop $lr
      (br_if $br (i32.ge_u (local.get $row) (local.get $end)))
      (local.set $p (local.get $row))
      (local.set $q (local.get $bias))
      (block $b4 (loop $l4
        (br_if $b4 (i32.ge_u (local.get $p) (i32.add (local.get $row) (local.get $c4))))
        (local.set $v (v128.load (local.get $p)))
        (if (local.get $bias) (then (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $q))))))
        (if (local.get $relu) (then (local.set $v (f32x4.max (local.get $v) (v128.const i32x4 0 0 0 0)))))
        (v128.store (local.get $p) (local.get $v))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $l4)))
      (block $b1 (loop $l1
        (br_if $b1 (i32.ge_u (local.get $p) (i32.add (local.get $row) (local.get $ld))))
        (local.set $s (f32.load (local.get $p)))
        (if (local.get $bias) (then (local.set $s (f32.add (local.get $s) (f32.load (local.get $q))))))
        (if (local.get $relu) (then (local.set $s (f32.max (local.get $s) (f32.const 0)))))
        (f32.store (local.get $p) (local.get $s))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $l1)))
      (local.set $row (i32.add (local.get $row) (local.get $ld)))
      (br $lr))))

  ;; out[i] = dy[i] · step(y[i]) for n floats, step(y) = 1 for y > 0, NaN for
  ;; NaN, else 0: a ReLU's gradient in one pass, the product tfjs-wasm's
  ;; mul(dy, step(y)) computes (−0 and NaN included); the last 1–3 one by one.
  (func (export "reluGrad") (param $dy i32) (param $y i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) (local $s f32)
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $b4 (loop $l4
      (br_if $b4 (i32.ge_u (local.get $out) (local.get $end)))
      ;; step(y): 1 where y > 0, y itself where y is NaN, else 0
      (local.set $v (v128.load (local.get $y)))
      (v128.store (local.get $out)
        (f32x4.mul (v128.load (local.get $dy))
          (v128.or
            (v128.and (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
            (v128.and (f32x4.ne (local.get $v) (local.get $v)) (local.get $v)))))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $l4)))
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $out) (local.get $end)))
      (local.set $s (f32.load (local.get $y)))
      (f32.store (local.get $out)
        (f32.mul (f32.load (local.get $dy))
          (select (f32.const 1)
            (select (local.get $s) (f32.const 0) (f32.ne (local.get $s) (local.get $s)))
            (f32.gt (local.get $s) (f32.const 0)))))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $l1))))

  ;; out[i] = c·x[i] + y[i] for i in [i0, i1), c the float32 whose bits are
  ;; cBits: the product rounded to float32, then the sum (tfjs's
  ;; add(mul(c, x), y), an SGD update, bit for bit; no fused multiply-add in
  ;; wasm SIMD). Parts with disjoint ranges write no float in common.
  (func (export "axpy") (param $x i32) (param $y i32) (param $out i32) (param $cBits i32)
    (param $i0 i32) (param $i1 i32)
    (local $c v128) (local $end i32) (local $off i32)
    (local.set $c (f32x4.splat (f32.reinterpret_i32 (local.get $cBits))))
    (local.set $off (i32.shl (local.get $i0) (i32.const 2)))
    (local.set $x (i32.add (local.get $x) (local.get $off)))
    (local.set $y (i32.add (local.get $y) (local.get $off)))
    (local.set $out (i32.add (local.get $out) (local.get $off)))
    (local.set $end (i32.add (local.get $out)
      (i32.shl (i32.and (i32.sub (local.get $i1) (local.get $i0)) (i32.const -4)) (i32.const 2))))
    (block $b4 (loop $l4
      (br_if $b4 (i32.ge_u (local.get $out) (local.get $end)))
      (v128.store (local.get $out)
        (f32x4.add (f32x4.mul (local.get $c) (v128.load (local.get $x))) (v128.load (local.get $y))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $l4)))
    (local.set $end (i32.add (local.get $out)
      (i32.shl (i32.and (i32.sub (local.get $i1) (local.get $i0)) (i32.const 3)) (i32.const 2))))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $out) (local.get $end)))
      (f32.store (local.get $out)
        (f32.add (f32.mul (f32x4.extract_lane 0 (local.get $c)) (f32.load (local.get $x))) (f32.load (local.get $y))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $l1))))

  ;; out[j] = Σ_{i<rows} x[i, j] for x [rows×cols] (row-major float32), in
  ;; column blocks of 16, then 4 and the last 1–3 lanes.
  (func (export "colSum") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $j i32) (local $p i32) (local $end i32) (local $ld i32) (local $lanes i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $ld (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $ld))))
    (if (i32.eqz (local.get $rows)) (then
      (memory.fill (local.get $out) (i32.const 0) (local.get $ld))
      (return)))
    (block $b16 (loop $l16
      (br_if $b16 (i32.gt_s (i32.add (local.get $j) (i32.const 16)) (local.get $cols)))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $s0 (v128.const i32x4 0 0 0 0))
      (local.set $s1 (v128.const i32x4 0 0 0 0))
      (local.set $s2 (v128.const i32x4 0 0 0 0))
      (local.set $s3 (v128.const i32x4 0 0 0 0))
      (loop $r
        (local.set $s0 (f32x4.add (local.get $s0) (v128.load offset=0 (local.get $p))))
        (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $p))))
        (local.set $s2 (f32x4.add (local.get $s2) (v128.load offset=32 (local.get $p))))
        (local.set $s3 (f32x4.add (local.get $s3) (v128.load offset=48 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (local.get $ld)))
        (br_if $r (i32.lt_u (local.get $p) (local.get $end))))
      (local.set $p (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
      (v128.store offset=0 (local.get $p) (local.get $s0))
      (v128.store offset=16 (local.get $p) (local.get $s1))
      (v128.store offset=32 (local.get $p) (local.get $s2))
      (v128.store offset=48 (local.get $p) (local.get $s3))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (local.set $end (i32.add (local.get $end) (i32.const 64)))
      (br $l16)))
    (block $b4 (loop $l4
      (br_if $b4 (i32.ge_s (local.get $j) (local.get $cols)))
      (local.set $lanes (i32.sub (local.get $cols) (local.get $j)))
      (if (i32.gt_s (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $s0 (v128.const i32x4 0 0 0 0))
      (loop $r
        (local.set $s0 (f32x4.add (local.get $s0)
          (if (result v128) (i32.ge_s (local.get $lanes) (i32.const 4))
            (then (v128.load (local.get $p)))
            (else (if (result v128) (i32.eq (local.get $lanes) (i32.const 2))
              (then (v128.load64_zero (local.get $p)))
              (else (if (result v128) (i32.eq (local.get $lanes) (i32.const 1))
                (then (v128.load32_zero (local.get $p)))
                (else (f32x4.replace_lane 2 (v128.load64_zero (local.get $p)) (f32.load offset=8 (local.get $p)))))))))))
        (local.set $p (i32.add (local.get $p) (local.get $ld)))
        (br_if $r (i32.lt_u (local.get $p) (local.get $end))))
      (call $st (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s0) (local.get $lanes) (i32.const 4))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (local.set $end (i32.add (local.get $end) (i32.const 16)))
      (br $l4))))

  ;; The first `lanes` (1 to 4) floats at p, p + s, p + 2s, …; zeros after.
  (func $ld (param $p i32) (param $lanes i32) (param $s i32) (result v128)
    (local $v v128)
    (if (i32.eq (local.get $s) (i32.const 4)) (then
      (if (i32.ge_s (local.get $lanes) (i32.const 4)) (then (return (v128.load (local.get $p)))))
      (if (i32.eq (local.get $lanes) (i32.const 2)) (then (return (v128.load64_zero (local.get $p)))))
      (if (i32.eq (local.get $lanes) (i32.const 1)) (then (return (v128.load32_zero (local.get $p)))))
      (return (f32x4.replace_lane 2 (v128.load64_zero (local.get $p)) (f32.load offset=8 (local.get $p))))))
    (local.set $v (v128.load32_zero (local.get $p)))
    (if (i32.ge_s (local.get $lanes) (i32.const 2)) (then
      (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (i32.add (local.get $p) (local.get $s)))))))
    (if (i32.ge_s (local.get $lanes) (i32.const 3)) (then
      (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 1))))))))
    (if (i32.ge_s (local.get $lanes) (i32.const 4)) (then
      (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 3))))))))
    (local.get $v))

  ;; Stores the first `lanes` (1 to 4) lanes of v at p, p + s, p + 2s, ….
  (func $st (param $p i32) (param $v v128) (param $lanes i32) (param $s i32)
    (if (i32.and (i32.eq (local.get $s) (i32.const 4)) (i32.ge_s (local.get $lanes) (i32.const 4))) (then
      (v128.store (local.get $p) (local.get $v))
      (return)))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.ge_s (local.get $lanes) (i32.const 2)) (then
      (f32.store (i32.add (local.get $p) (local.get $s)) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.ge_s (local.get $lanes) (i32.const 3)) (then
      (f32.store (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 1))) (f32x4.extract_lane 2 (local.get $v)))))
    (if (i32.ge_s (local.get $lanes) (i32.const 4)) (then
      (f32.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 3))) (f32x4.extract_lane 3 (local.get $v))))))
)
