/** Messages between a {@link WorkerPool} and its workers. */
export interface TaskRequest {
  id: number;
  task: string;
  args: unknown[];
}

export type TaskResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } }
  | { id: -1; ok: true; ready: true; tasks: string[] };

/**
 * The ArrayBuffers behind the typed arrays in `value` (searched through
 * arrays and plain objects, a few levels deep), each once; SharedArrayBuffers
 * are shared, not moved, and are left out.
 */
export function collectTransferables(
  value: unknown,
  depth = 4,
  out: ArrayBuffer[] = [],
): ArrayBuffer[] {
  if (value === null || typeof value !== 'object' || depth < 0) return out;
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    if (buf instanceof ArrayBuffer && !out.includes(buf)) out.push(buf);
    return out;
  }
  if (value instanceof ArrayBuffer) {
    if (!out.includes(value)) out.push(value);
    return out;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTransferables(v, depth - 1, out);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    for (const v of Object.values(value)) collectTransferables(v, depth - 1, out);
  }
  return out;
}

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return (
    typeof p?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined'
  );
}

/** `import()` of a Node built-in that bundlers for the browser leave alone. */
export function importNodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}
