// Registers ./tfjs-esm-hooks.mjs; import it before any @seg package.
import { register } from 'node:module';

register('./tfjs-esm-hooks.mjs', import.meta.url);
