/** A fast finiteness check for large typed arrays, with @seg/tensor's message. */
import { assertFinite } from '@seg/tensor';

/**
 * Throws `assertFinite`'s SegValueError at the first NaN or ±Infinity of
 * `array`. Fast path: `v − v` is 0 for finite v and NaN otherwise, so one
 * summed pass decides (four independent sums, so the additions overlap);
 * only a bad array is searched element by element.
 */
export function checkFinite(fn: string, arg: string, array: ArrayLike<number>): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const n = array.length;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    const v0 = array[i]!;
    const v1 = array[i + 1]!;
    const v2 = array[i + 2]!;
    const v3 = array[i + 3]!;
    a0 += v0 - v0;
    a1 += v1 - v1;
    a2 += v2 - v2;
    a3 += v3 - v3;
  }
  for (let i = n4; i < n; i++) {
    const v = array[i]!;
    a0 += v - v;
  }
  if (a0 + a1 + a2 + a3 !== 0) assertFinite(fn, arg, array);
}
