/** The text of kernels-wasm.ts for the current filter-grad.wat (wabt 1.0.39's wat2wasm). */
export function kernelsWasmSource(): Promise<string>;
