// Runs a TypeScript worker module of this workspace under tsx (sources
// resolved through the @seg/source condition), for the experiment and the
// benchmark. Pass the module's URL as workerData.segTsScript.
import './register.mjs';
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.segTsScript, import.meta.url);
