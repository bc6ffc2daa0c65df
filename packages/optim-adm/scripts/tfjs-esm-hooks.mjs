// Module resolve hook for running this package's TypeScript sources under
// tsx with `--conditions=@seg/source`: tfjs-core's ESM `dist/` files import
// extension-less paths (`./gradients`), which tsx resolves to a directory of
// the same name and Node then refuses. Resolve them to the `.js` file.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (
    parent &&
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
