/** The text of kernels-wasm.ts for the current .wat files (wabt 1.0.39's wat2wasm). */
export function kernelsWasmSource(): Promise<string>;
