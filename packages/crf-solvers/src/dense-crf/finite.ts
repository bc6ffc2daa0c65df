/** A fast finiteness check for large typed arrays, with @seg/tensor's message. */
import { assertFinite } from '@seg/tensor';

/**
 * Throws `assertFinite`'s SegValueError at the first NaN or ±Infinity of
 * `array`. Fast path: `v − v` is 0 for finite v and NaN otherwise, so one
 * summed pass decides; only a bad array is searched element by element.
 */
export function checkFinite(fn: string, arg: string, array: ArrayLike<number>): void {
  let acc = 0;
  for (let i = 0; i < array.length; i++) {
    const v = array[i]!;
    acc += v - v;
  }
  if (acc !== 0) assertFinite(fn, arg, array);
}
