/**
 * A typed array of real numbers — unary costs, edge weights, capacities,
 * pairwise matrices — given as Float32Array or Float64Array and read as
 * float64 by every solver of this package.
 */
export type FloatArray = Float32Array | Float64Array;
