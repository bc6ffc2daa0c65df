export type AnchorName = 'maxflow_bk' | 'maxflow_bk17' | 'alpha_expansion_bk' | 'dense_crf_kk';
export declare const ANCHOR_NAMES: AnchorName[];
/** The path of an anchor binary, built on first use; or why it cannot be built. */
export declare function anchorBinary(
  shared: string | null,
  name: AnchorName,
): { path: string; reason?: undefined } | { path?: undefined; reason: string };
