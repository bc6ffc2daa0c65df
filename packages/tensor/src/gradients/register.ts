// Registers every tfjs-core gradient and chained op (`x.square()`), then our
// Conv2D gradient. tfjs-core's Node build
// registers none; the built @seg/tensor bundles tfjs-core's own
// `register_all_gradients` (see tsup.config.ts), so gradients work from a
// plain `node` script as well as under a bundler.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { registerGradient } from '@tensorflow/tfjs-core';
import { conv2dGradConfig } from './conv2d-grad.js';

registerGradient(conv2dGradConfig);
