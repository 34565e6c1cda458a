/**
 * The kiln-wasm-gemm library's kernel, written by hand in WebAssembly text:
 * `gemm(a, b, bias, c, m, k, n, hasBias)` computes C = A·B (+ bias) for row-major
 * f32 matrices A (m×k), B (k×n), bias (n) at byte offsets of its memory. Row by
 * row: C's row starts as the bias (or zeros), then each A[i, p] is splatted and
 * times B's row p added to it, four columns per SIMD step, the tail one by one.
 */
export const GEMM_WAT = `
(module
  (memory (export "memory") 1)
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $bias i32) (param $c i32)
    (param $m i32) (param $k i32) (param $n i32) (param $hasBias i32)
    (local $i i32) (local $p i32) (local $j i32) (local $n4 i32)
    (local $crow i32) (local $brow i32) (local $as f32) (local $av v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done_i (loop $loop_i
      (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $crow (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $done_init (loop $loop_init
        (br_if $done_init (i32.ge_u (local.get $j) (local.get $n)))
        (f32.store (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2)))
          (if (result f32) (local.get $hasBias)
            (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
            (else (f32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $loop_init)))
      (local.set $p (i32.const 0))
      (block $done_p (loop $loop_p
        (br_if $done_p (i32.ge_u (local.get $p) (local.get $k)))
        (local.set $as (f32.load (i32.add (local.get $a)
          (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $p)) (i32.const 2)))))
        (local.set $av (f32x4.splat (local.get $as)))
        (local.set $brow (i32.add (local.get $b) (i32.shl (i32.mul (local.get $p) (local.get $n)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $done_j (loop $loop_j
          (br_if $done_j (i32.ge_u (local.get $j) (local.get $n4)))
          (v128.store (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2)))
            (f32x4.add
              (v128.load (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
              (f32x4.mul (local.get $av) (v128.load (i32.add (local.get $brow) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $loop_j)))
        (block $done_t (loop $loop_t
          (br_if $done_t (i32.ge_u (local.get $j) (local.get $n)))
          (f32.store (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2)))
            (f32.add
              (f32.load (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
              (f32.mul (local.get $as) (f32.load (i32.add (local.get $brow) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $loop_t)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $loop_p)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop_i)))))
`;
