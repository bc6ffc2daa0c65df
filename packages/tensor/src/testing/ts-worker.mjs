// Development bootstrap: runs a TypeScript worker module of this workspace
// through tsx, workspace packages resolved to their sources. Tests only.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.segTsScript, import.meta.url);
