/** Worker-pool options that run a TypeScript module of this package under tsx. */
export function tsWorkerOptions(script: URL): {
  script: URL;
  execArgv: string[];
  workerData: { segTsScript: string };
} {
  return {
    script: new URL('./ts-worker.mjs', import.meta.url),
    execArgv: ['--conditions=@seg/source'],
    workerData: { segTsScript: script.href },
  };
}
