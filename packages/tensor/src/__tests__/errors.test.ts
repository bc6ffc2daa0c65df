import { describe, expect, it } from 'vitest';
import {
  assertFinite,
  assertInt,
  assertIntRange,
  assertLength,
  assertNonNegative,
  assertNumber,
  assertShape,
  SegRangeError,
  SegShapeError,
  SegValueError,
} from '../index.js';

describe('errors', () => {
  it('are subclasses of the built-in errors, with their own names', () => {
    expect(new SegShapeError('x')).toBeInstanceOf(TypeError);
    expect(new SegValueError('x')).toBeInstanceOf(TypeError);
    expect(new SegRangeError('x')).toBeInstanceOf(RangeError);
    expect(new SegRangeError('x').name).toBe('SegRangeError');
  });

  it('name the function, the argument, what was expected and what came', () => {
    expect(() => assertShape('f', 'probs', [2, 3, 4], [2, null, 5])).toThrow(
      new SegShapeError('f: probs has shape [2,3,4], expected [2,*,5]'),
    );
    expect(() =>
      assertLength(
        'alphaExpansion',
        'unary',
        new Float32Array(1200),
        1500,
        'width*height*numLabels',
      ),
    ).toThrow('alphaExpansion: unary has length 1200, expected width*height*numLabels = 1500');
    expect(() => assertFinite('g', 'x', [1, Number.NaN])).toThrow(
      new SegValueError('g: x[1] is NaN, expected a finite number'),
    );
    expect(() => assertNonNegative('h', 'cap', [0, -2])).toThrow(
      'h: cap[1] is -2, expected a finite number ≥ 0',
    );
    expect(() => assertNonNegative('h', 'cap', [Infinity])).toThrow(
      'h: cap[0] is Infinity, expected a finite number ≥ 0',
    );
    expect(() => assertIntRange('k', 'labels', [0, 3], -1, 2)).toThrow(
      new SegRangeError('k: labels[1] is 3, expected an integer in [-1, 2]'),
    );
    expect(() => assertInt('m', 'numLabels', 1, 2)).toThrow(
      'm: numLabels is 1, expected an integer ≥ 2',
    );
    expect(() => assertInt('m', 'size', 2.5, 1, 8)).toThrow(
      'm: size is 2.5, expected an integer in [1, 8]',
    );
    expect(() => assertNumber('n', 'sigma', -1, 0)).toThrow(
      'n: sigma is -1, expected a finite number ≥ 0',
    );
    expect(() => assertNumber('n', 'lr', Number.NaN)).toThrow(
      'n: lr is NaN, expected a finite number',
    );
  });

  it('pass on good input', () => {
    expect(() => assertShape('f', 'a', [1, 2], [1, 2])).not.toThrow();
    expect(() => assertIntRange('f', 'a', new Int32Array([-1, 0, 1]), -1, 1)).not.toThrow();
    expect(() => assertNonNegative('f', 'a', new Float64Array([0, 1e300]))).not.toThrow();
  });
});
