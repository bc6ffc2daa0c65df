/**
 * The edge directions of a pixel grid, defined once for every grid solver of
 * this package and for its users (@seg/losses' grid weights, @seg/optim-adm's
 * Potts problems).
 *
 * A grid problem keeps one array per forward direction, in this order:
 * `[right, down]` (4-connected) or `[right, down, downRight, downLeft]`
 * (8-connected), each of length W·H; entry `p = y·W + x` belongs to the edge
 * from pixel (x, y) to (x + dx, y + dy) and is ignored where that neighbour
 * lies outside the grid. This is the order of the SEGGRID1 / SEGPOTTS files.
 */

/** The name of a forward edge direction of a grid. */
export type GridDirection = 'right' | 'down' | 'downRight' | 'downLeft';

/** A forward direction: its name and the step `(dx, dy)` from a pixel to its neighbour. */
export interface GridStep {
  readonly name: GridDirection;
  /** Column step, -1, 0 or 1. */
  readonly dx: number;
  /** Row step, 0 or 1 (forward directions never point up). */
  readonly dy: number;
}

/**
 * The forward directions as steps, in SEGGRID1 order: right (1, 0), down
 * (0, 1), down-right (1, 1), down-left (−1, 1). A 4-connected grid uses the
 * first two, an 8-connected grid all four.
 */
export const GRID_STEPS = [
  { name: 'right', dx: 1, dy: 0 },
  { name: 'down', dx: 0, dy: 1 },
  { name: 'downRight', dx: 1, dy: 1 },
  { name: 'downLeft', dx: -1, dy: 1 },
] as const satisfies readonly GridStep[];

/** The names of the forward directions, in SEGGRID1 order (index = direction number). */
export const GRID_DIRECTION_NAMES: readonly GridDirection[] = GRID_STEPS.map((s) => s.name);

/** @deprecated Renamed {@link GRID_DIRECTION_NAMES} (the steps are {@link GRID_STEPS}); this alias goes in the next minor release. */
export const GRID_DIRECTIONS: readonly GridDirection[] = GRID_DIRECTION_NAMES;

/**
 * `dx` of every direction d of a grid's residual graph: the forward ones
 * first, then their reverses, so that the reverse of d is `d ^ (D / 2)`
 * (4-connected: right, down, left, up; 8-connected: right, down, down-right,
 * down-left, left, up, up-left, up-right).
 */
export function allDx(connectivity: 4 | 8): number[] {
  const fwd = GRID_STEPS.slice(0, connectivity / 2).map((s) => s.dx);
  return [...fwd, ...fwd.map((d) => -d)];
}

/** `dy` of every direction of a grid's residual graph, in the order of {@link allDx}. */
export function allDy(connectivity: 4 | 8): number[] {
  const fwd = GRID_STEPS.slice(0, connectivity / 2).map((s) => s.dy);
  return [...fwd, ...fwd.map((d) => -d)];
}
