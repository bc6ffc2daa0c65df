// A Node resolve hook for running TypeScript sources of the workspace under
// tsx: tfjs-core's ESM files import siblings without extensions
// ('./gradients'), and where a folder of the same name exists tsx picks the
// folder and fails. Prefer the `.js` file, as bundlers and vitest do.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (
    parent.includes('/@tensorflow/tfjs-core/dist/') &&
    specifier.startsWith('.') &&
    !specifier.endsWith('.js')
  ) {
    const url = new URL(`${specifier}.js`, parent);
    if (existsSync(fileURLToPath(url)))
      return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}
