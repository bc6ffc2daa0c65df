// @seg/optim-adm/node: file-system helpers (Node only).

export { readMask, readScribbles } from './files.js';
export type { GrabCutExample, LoadGrabCutOptions } from './grabcut.js';
export { grabCutNames, hasScribbleSet, loadGrabCut } from './grabcut.js';
