;; The SIMD inner loops of the engine's wasm kernels (wasm-simd.ts loads them; JS drives the outer
;; loops). Pointers and steps are byte offsets into the tfjs wasm backend's heap, data is f32. The
;; arithmetic runs four lanes at a time and without data-dependent branches: V8 does not vectorise JS loops, and
;; plain JS versions of these loops are 10-40x slower. Every routine ends its rows with a scalar
;; loop over the last (n mod 4) elements, so no length needs to be a multiple of four.
;;
;; Compiled by wabt (`npm run generate:wasm`, generate.ts beside this file) into simd-kernels.ts,
;; twice: as written here, and with the memory import below declared shared (0 to 65536 pages)
;; for tfjs's threaded build, whose memory is a shared WebAssembly.Memory.
(module
  (import "env" "memory" (memory 0))

  ;; mac(a, aStep, b, bStep, c, cStep, count, channels):
  ;;   repeat count times: a[0..channels) += b[..] * c[..]; a += aStep; b += bStep; c += cStep
  (func $mac (export "mac")
    (param $a i32) (param $aStep i32) (param $b i32) (param $bStep i32)
    (param $c i32) (param $cStep i32) (param $count i32) (param $channels i32)
    (local $k i32) (local $j i32) (local $o i32)
    (local.set $k (local.get $count))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.le_s (local.get $k) (i32.const 0)))
        (local.set $j (i32.const 0))
        (local.set $o (i32.const 0))
        ;; four channels at a time while j + 4 <= channels
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $channels)))
            (v128.store (i32.add (local.get $a) (local.get $o))
              (f32x4.add
                (v128.load (i32.add (local.get $a) (local.get $o)))
                (f32x4.mul
                  (v128.load (i32.add (local.get $b) (local.get $o)))
                  (v128.load (i32.add (local.get $c) (local.get $o))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $vec)))
        ;; the remaining channels one at a time
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $j) (local.get $channels)))
            (f32.store (i32.add (local.get $a) (local.get $o))
              (f32.add
                (f32.load (i32.add (local.get $a) (local.get $o)))
                (f32.mul
                  (f32.load (i32.add (local.get $b) (local.get $o)))
                  (f32.load (i32.add (local.get $c) (local.get $o))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $tail)))
        (local.set $a (i32.add (local.get $a) (local.get $aStep)))
        (local.set $b (i32.add (local.get $b) (local.get $bStep)))
        (local.set $c (i32.add (local.get $c) (local.get $cStep)))
        (local.set $k (i32.add (local.get $k) (i32.const -1)))
        (br $row))))

  ;; devSq(acc, x, xStep, C, count, cols):
  ;;   repeat count times: acc[0..cols) += (x[..] + C[..])^2; x += xStep
  ;;   (batch norm's sum of squared deviations with C = -mean: the centred values are made in
  ;;   registers, never stored; each lane computes what mac(acc, 0, c, _, c, _) does on the stored
  ;;   c = x + C, so the sums are the same bits)
  (func $devSq (export "devSq")
    (param $acc i32) (param $x i32) (param $xStep i32) (param $C i32)
    (param $count i32) (param $cols i32)
    (local $k i32) (local $o i32) (local $rowBytes i32) (local $vecEnd i32)
    (local $d v128) (local $ds f32)
    (local.set $rowBytes (i32.mul (local.get $cols) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $cols) (i32.const -4)) (i32.const 4)))
    (local.set $k (local.get $count))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.le_s (local.get $k) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
            (local.set $d
              (f32x4.add
                (v128.load (i32.add (local.get $x) (local.get $o)))
                (v128.load (i32.add (local.get $C) (local.get $o)))))
            (v128.store (i32.add (local.get $acc) (local.get $o))
              (f32x4.add
                (v128.load (i32.add (local.get $acc) (local.get $o)))
                (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $o) (local.get $rowBytes)))
            (local.set $ds
              (f32.add
                (f32.load (i32.add (local.get $x) (local.get $o)))
                (f32.load (i32.add (local.get $C) (local.get $o)))))
            (f32.store (i32.add (local.get $acc) (local.get $o))
              (f32.add
                (f32.load (i32.add (local.get $acc) (local.get $o)))
                (f32.mul (local.get $ds) (local.get $ds))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $tail)))
        (local.set $x (i32.add (local.get $x) (local.get $xStep)))
        (local.set $k (i32.add (local.get $k) (i32.const -1)))
        (br $row))))

  ;; centreAffineClamp(out, x, C, A, D, rows, cols, lo, hi):
  ;;   c = x[r, j] + C[j]; z = c * A[j] + D[j]; t = (z < lo) ? lo : z; out[r, j] = (hi < t) ? hi : t
  ;;   (batch norm's centring, scale and shift, then ReLU6 with lo 0 and hi 6, in one pass that
  ;;   reads x and writes out: the centred values c are made in registers, never stored; with
  ;;   lo = -inf and hi = +inf, no clamp). The clamp is f32x4.pmax/pmin, one instruction each on
  ;;   x64, where f32x4.max/min's NaN and -0 rules take several: min(max(z, lo), hi) for every z but
  ;;   NaN (kept) and -0 (kept, not made +0). bnGradSums recomputes the same z.
  (func $centreAffineClamp (export "centreAffineClamp")
    (param $out i32) (param $x i32) (param $C i32) (param $A i32) (param $D i32)
    (param $rows i32) (param $cols i32) (param $lo f32) (param $hi f32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $vecEnd i32)
    (local $vlo v128) (local $vhi v128) (local $zs f32)
    (local.set $rowBytes (i32.mul (local.get $cols) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $cols) (i32.const -4)) (i32.const 4)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $r (local.get $rows))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.le_s (local.get $r) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
            (v128.store (i32.add (local.get $out) (local.get $o))
              (f32x4.pmin
                (f32x4.pmax
                  (f32x4.add
                    (f32x4.mul
                      (f32x4.add
                        (v128.load (i32.add (local.get $x) (local.get $o)))
                        (v128.load (i32.add (local.get $C) (local.get $o))))
                      (v128.load (i32.add (local.get $A) (local.get $o))))
                    (v128.load (i32.add (local.get $D) (local.get $o))))
                  (local.get $vlo))
                (local.get $vhi)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $o) (local.get $rowBytes)))
            (local.set $zs
              (f32.add
                (f32.mul
                  (f32.add
                    (f32.load (i32.add (local.get $x) (local.get $o)))
                    (f32.load (i32.add (local.get $C) (local.get $o))))
                  (f32.load (i32.add (local.get $A) (local.get $o))))
                (f32.load (i32.add (local.get $D) (local.get $o)))))
            ;; pmax, then pmin, as the vector lanes do
            (local.set $zs (select (local.get $lo) (local.get $zs) (f32.lt (local.get $zs) (local.get $lo))))
            (f32.store (i32.add (local.get $out) (local.get $o))
              (select (local.get $hi) (local.get $zs) (f32.lt (local.get $hi) (local.get $zs))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $tail)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const -1)))
        (br $row))))

  ;; bnGradSums(s1, s2, dz, dy, x, C, A, D, rows, cols, upper, masked):
  ;;   per row r, column j: c = x[r, j] + C[j]; g = dy[r, j], or with masked != 0
  ;;   g = (0 < c * A[j] + D[j] <= upper) ? dy[r, j] : 0, stored as dz[r, j];
  ;;   s1[j] += g; s2[j] += g * c
  ;;   (the first pass of batch norm's backward: ReLU6's gradient through the recomputed
  ;;   pre-activation, and the column sums of dz and dz * (x - mean), with the centred values made in
  ;;   registers, never stored; z is centreAffineClamp's)
  (func $bnGradSums (export "bnGradSums")
    (param $s1 i32) (param $s2 i32) (param $dz i32) (param $dy i32)
    (param $x i32) (param $C i32) (param $A i32) (param $D i32)
    (param $rows i32) (param $cols i32) (param $upper f32) (param $masked i32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $vecEnd i32)
    (local $lim v128) (local $zero v128) (local $c v128) (local $z v128) (local $g v128)
    (local $cs f32) (local $zs f32) (local $gs f32)
    (local.set $rowBytes (i32.mul (local.get $cols) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $cols) (i32.const -4)) (i32.const 4)))
    (local.set $lim (f32x4.splat (local.get $upper)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $r (local.get $rows))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.le_s (local.get $r) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
            (local.set $c
              (f32x4.add
                (v128.load (i32.add (local.get $x) (local.get $o)))
                (v128.load (i32.add (local.get $C) (local.get $o)))))
            (local.set $g (v128.load (i32.add (local.get $dy) (local.get $o))))
            (if (local.get $masked)
              (then
                (local.set $z
                  (f32x4.add
                    (f32x4.mul (local.get $c) (v128.load (i32.add (local.get $A) (local.get $o))))
                    (v128.load (i32.add (local.get $D) (local.get $o)))))
                (local.set $g
                  (v128.and
                    (local.get $g)
                    (v128.and
                      (f32x4.gt (local.get $z) (local.get $zero))
                      (f32x4.le (local.get $z) (local.get $lim)))))
                (v128.store (i32.add (local.get $dz) (local.get $o)) (local.get $g))))
            (v128.store (i32.add (local.get $s1) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $s1) (local.get $o))) (local.get $g)))
            (v128.store (i32.add (local.get $s2) (local.get $o))
              (f32x4.add
                (v128.load (i32.add (local.get $s2) (local.get $o)))
                (f32x4.mul (local.get $g) (local.get $c))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $o) (local.get $rowBytes)))
            (local.set $cs
              (f32.add
                (f32.load (i32.add (local.get $x) (local.get $o)))
                (f32.load (i32.add (local.get $C) (local.get $o)))))
            (local.set $gs (f32.load (i32.add (local.get $dy) (local.get $o))))
            (if (local.get $masked)
              (then
                (local.set $zs
                  (f32.add
                    (f32.mul (local.get $cs) (f32.load (i32.add (local.get $A) (local.get $o))))
                    (f32.load (i32.add (local.get $D) (local.get $o)))))
                (local.set $gs
                  (select
                    (local.get $gs)
                    (f32.const 0)
                    (i32.and
                      (f32.gt (local.get $zs) (f32.const 0))
                      (f32.le (local.get $zs) (local.get $upper)))))
                (f32.store (i32.add (local.get $dz) (local.get $o)) (local.get $gs))))
            (f32.store (i32.add (local.get $s1) (local.get $o))
              (f32.add (f32.load (i32.add (local.get $s1) (local.get $o))) (local.get $gs)))
            (f32.store (i32.add (local.get $s2) (local.get $o))
              (f32.add
                (f32.load (i32.add (local.get $s2) (local.get $o)))
                (f32.mul (local.get $gs) (local.get $cs))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $tail)))
        (local.set $dz (i32.add (local.get $dz) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const -1)))
        (br $row))))

  ;; centreAffine(out, p, x, C, A, B, D, rows, cols):
  ;;   out[r, j] = p[r, j] * A[j] + (x[r, j] + C[j]) * B[j] + D[j]
  ;;   (the last pass of batch norm's backward, dx from dz and the centred values x + C made in
  ;;   registers; out may be p)
  (func $centreAffine (export "centreAffine")
    (param $out i32) (param $p i32) (param $x i32) (param $C i32)
    (param $A i32) (param $B i32) (param $D i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $vecEnd i32)
    (local.set $rowBytes (i32.mul (local.get $cols) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $cols) (i32.const -4)) (i32.const 4)))
    (local.set $r (local.get $rows))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.le_s (local.get $r) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
            (v128.store (i32.add (local.get $out) (local.get $o))
              (f32x4.add
                (f32x4.add
                  (f32x4.mul
                    (v128.load (i32.add (local.get $p) (local.get $o)))
                    (v128.load (i32.add (local.get $A) (local.get $o))))
                  (f32x4.mul
                    (f32x4.add
                      (v128.load (i32.add (local.get $x) (local.get $o)))
                      (v128.load (i32.add (local.get $C) (local.get $o))))
                    (v128.load (i32.add (local.get $B) (local.get $o)))))
                (v128.load (i32.add (local.get $D) (local.get $o)))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_s (local.get $o) (local.get $rowBytes)))
            (f32.store (i32.add (local.get $out) (local.get $o))
              (f32.add
                (f32.add
                  (f32.mul
                    (f32.load (i32.add (local.get $p) (local.get $o)))
                    (f32.load (i32.add (local.get $A) (local.get $o))))
                  (f32.mul
                    (f32.add
                      (f32.load (i32.add (local.get $x) (local.get $o)))
                      (f32.load (i32.add (local.get $C) (local.get $o))))
                    (f32.load (i32.add (local.get $B) (local.get $o)))))
                (f32.load (i32.add (local.get $D) (local.get $o)))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $tail)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const -1)))
        (br $row))))

  ;; reluGrad(x, dy, out, n, upper):
  ;;   out[i] = (0 < x[i] <= upper) ? dy[i] : 0   (a lane mask ANDed with dy: no branch)
  (func $reluGrad (export "reluGrad")
    (param $x i32) (param $dy i32) (param $out i32) (param $n i32) (param $upper f32)
    (local $o i32) (local $endBytes i32) (local $vecEnd i32)
    (local $lim v128) (local $zero v128)
    (local $v f32)
    (local.set $endBytes (i32.mul (local.get $n) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $n) (i32.const -4)) (i32.const 4)))
    (local.set $lim (f32x4.splat (local.get $upper)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $o (i32.const 0))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $o)))
            (v128.and
              (f32x4.gt (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $zero))
              (f32x4.le (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $lim)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $vec)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_s (local.get $o) (local.get $endBytes)))
        (local.set $v (f32.load (i32.add (local.get $x) (local.get $o))))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (select
            (f32.load (i32.add (local.get $dy) (local.get $o)))
            (f32.const 0)
            (i32.and
              (f32.gt (local.get $v) (f32.const 0))
              (f32.le (local.get $v) (local.get $upper)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $tail))))

  ;; outer(acc, x, xStep, y, yStep, rows, m, n):
  ;;   repeat rows times: acc[i, j] += x[i] * y[j] for i < m, j < n ([m, n] row-major);
  ;;   x += xStep; y += yStep
  (func $outer (export "outer")
    (param $acc i32) (param $x i32) (param $xStep i32) (param $y i32)
    (param $yStep i32) (param $rows i32) (param $m i32) (param $n i32)
    (local $r i32) (local $i i32) (local $o i32) (local $xo i32) (local $ao i32)
    (local $rowBytes i32) (local $vecEnd i32)
    (local $s v128)
    (local $sc f32)
    (local.set $rowBytes (i32.mul (local.get $n) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $n) (i32.const -4)) (i32.const 4)))
    (local.set $r (local.get $rows))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.le_s (local.get $r) (i32.const 0)))
        (local.set $i (i32.const 0))
        (local.set $xo (local.get $x))
        (local.set $ao (local.get $acc))
        ;; acc row i += x[i] * y
        (block $accDone
          (loop $accRow
            (br_if $accDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $sc (f32.load (local.get $xo)))
            (local.set $s (f32x4.splat (local.get $sc)))
            (local.set $o (i32.const 0))
            (block $vecDone
              (loop $vec
                (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
                (v128.store (i32.add (local.get $ao) (local.get $o))
                  (f32x4.add
                    (v128.load (i32.add (local.get $ao) (local.get $o)))
                    (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $y) (local.get $o))))))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $vec)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_s (local.get $o) (local.get $rowBytes)))
                (f32.store (i32.add (local.get $ao) (local.get $o))
                  (f32.add
                    (f32.load (i32.add (local.get $ao) (local.get $o)))
                    (f32.mul (local.get $sc) (f32.load (i32.add (local.get $y) (local.get $o))))))
                (local.set $o (i32.add (local.get $o) (i32.const 4)))
                (br $tail)))
            (local.set $ao (i32.add (local.get $ao) (local.get $rowBytes)))
            (local.set $xo (i32.add (local.get $xo) (i32.const 4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $accRow)))
        (local.set $x (i32.add (local.get $x) (local.get $xStep)))
        (local.set $y (i32.add (local.get $y) (local.get $yStep)))
        (local.set $r (i32.add (local.get $r) (i32.const -1)))
        (br $row))))

  ;; outer4(acc, x, xStep, y, yStep, quads, m, n):
  ;;   outer over 4 * quads rows, four rows (x0..x3, y0..y3) per pass over acc: a quarter of the
  ;;   accumulator traffic. Each element adds the four products in row order, as four calls of
  ;;   outer would.
  (func $outer4 (export "outer4")
    (param $acc i32) (param $x i32) (param $xStep i32) (param $y i32)
    (param $yStep i32) (param $quads i32) (param $m i32) (param $n i32)
    (local $r i32) (local $i i32) (local $o i32) (local $xo i32) (local $ao i32)
    (local $rowBytes i32) (local $vecEnd i32)
    (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $c0 f32) (local $c1 f32) (local $c2 f32) (local $c3 f32)
    (local.set $rowBytes (i32.mul (local.get $n) (i32.const 4)))
    (local.set $vecEnd (i32.mul (i32.and (local.get $n) (i32.const -4)) (i32.const 4)))
    (local.set $r (local.get $quads))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.le_s (local.get $r) (i32.const 0)))
        ;; the quad's rows: x (= x0), x1, x2, x3 and y (= y0), y1, y2, y3
        (local.set $x1 (i32.add (local.get $x) (local.get $xStep)))
        (local.set $x2 (i32.add (local.get $x1) (local.get $xStep)))
        (local.set $x3 (i32.add (local.get $x2) (local.get $xStep)))
        (local.set $y1 (i32.add (local.get $y) (local.get $yStep)))
        (local.set $y2 (i32.add (local.get $y1) (local.get $yStep)))
        (local.set $y3 (i32.add (local.get $y2) (local.get $yStep)))
        (local.set $i (i32.const 0))
        (local.set $xo (i32.const 0))
        (local.set $ao (local.get $acc))
        ;; acc row i += x0[i] * y0 + x1[i] * y1 + x2[i] * y2 + x3[i] * y3, added left to right
        (block $accDone
          (loop $accRow
            (br_if $accDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $c0 (f32.load (i32.add (local.get $x) (local.get $xo))))
            (local.set $s0 (f32x4.splat (local.get $c0)))
            (local.set $c1 (f32.load (i32.add (local.get $x1) (local.get $xo))))
            (local.set $s1 (f32x4.splat (local.get $c1)))
            (local.set $c2 (f32.load (i32.add (local.get $x2) (local.get $xo))))
            (local.set $s2 (f32x4.splat (local.get $c2)))
            (local.set $c3 (f32.load (i32.add (local.get $x3) (local.get $xo))))
            (local.set $s3 (f32x4.splat (local.get $c3)))
            (local.set $o (i32.const 0))
            (block $vecDone
              (loop $vec
                (br_if $vecDone (i32.ge_s (local.get $o) (local.get $vecEnd)))
                (v128.store (i32.add (local.get $ao) (local.get $o))
                  (f32x4.add
                    (f32x4.add
                      (f32x4.add
                        (f32x4.add
                          (v128.load (i32.add (local.get $ao) (local.get $o)))
                          (f32x4.mul (local.get $s0) (v128.load (i32.add (local.get $y) (local.get $o)))))
                        (f32x4.mul (local.get $s1) (v128.load (i32.add (local.get $y1) (local.get $o)))))
                      (f32x4.mul (local.get $s2) (v128.load (i32.add (local.get $y2) (local.get $o)))))
                    (f32x4.mul (local.get $s3) (v128.load (i32.add (local.get $y3) (local.get $o))))))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $vec)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_s (local.get $o) (local.get $rowBytes)))
                (f32.store (i32.add (local.get $ao) (local.get $o))
                  (f32.add
                    (f32.add
                      (f32.add
                        (f32.add
                          (f32.load (i32.add (local.get $ao) (local.get $o)))
                          (f32.mul (local.get $c0) (f32.load (i32.add (local.get $y) (local.get $o)))))
                        (f32.mul (local.get $c1) (f32.load (i32.add (local.get $y1) (local.get $o)))))
                      (f32.mul (local.get $c2) (f32.load (i32.add (local.get $y2) (local.get $o)))))
                    (f32.mul (local.get $c3) (f32.load (i32.add (local.get $y3) (local.get $o))))))
                (local.set $o (i32.add (local.get $o) (i32.const 4)))
                (br $tail)))
            (local.set $ao (i32.add (local.get $ao) (local.get $rowBytes)))
            (local.set $xo (i32.add (local.get $xo) (i32.const 4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $accRow)))
        ;; the next quad starts after x3 and y3
        (local.set $x (i32.add (local.get $x3) (local.get $xStep)))
        (local.set $y (i32.add (local.get $y3) (local.get $yStep)))
        (local.set $r (i32.add (local.get $r) (i32.const -1)))
        (br $quad)))))
