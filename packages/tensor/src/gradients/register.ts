// Registers every tfjs-core gradient and chained op (`x.square()`), then our
// Conv2D, FusedConv2D and BatchMatMul gradients, Relu's and Add's (fewer
// kernels on wasm), the wasm kernel of the
// Conv2D filter gradient (SegConv2DBackpropFilter) and the wasm matrix
// product (SegMatMul, with its gradient) and dense layer (SegFusedMatMul,
// with its gradient), column sum (SegColSum), ReLU
// gradient (SegReluGrad) and SGD update (SegAxpy), and the
// wasm direct convolution (SegConv2D, with FusedConv2D's gradient), and puts
// an Identity that shares its input's buffer in place of tfjs-backend-wasm's
// copying one (wasm/shared-buffers.ts), with a guard on its BatchMatMul that makes the sharing safe. tfjs-core's Node build registers no
// gradients; the internal @seg/tfjs-gradients (tooling/) bundles tfjs-core's
// own registrations into one module plain Node can import, and the built
// @seg/tensor bundles that in turn (see tsup.config.ts).
import '@seg/tfjs-gradients';
// its kernels first: the aliasing Identity replaces one of them
import '@tensorflow/tfjs-backend-wasm';
import { registerGradient, registerKernel } from '@tensorflow/tfjs-core';
import { segConv2dGradConfig } from '../ops/conv2d.js';
import { conv2dGradConfig } from './conv2d-grad.js';
import { addGradConfig, reluGradConfig } from './elementwise-grad.js';
import { fusedConv2dGradConfig } from './fused-conv2d-grad.js';
import {
  batchMatMulGradConfig,
  segFusedMatMulGradConfig,
  segMatMulGradConfig,
} from './matmul-grad.js';
import { wasmConvKernelConfig } from './wasm/conv.js';
import { wasmFilterGradKernelConfig } from './wasm/filter-grad.js';
import {
  wasmAxpyKernelConfig,
  wasmColSumKernelConfig,
  wasmFusedMatMulKernelConfig,
  wasmMatMulKernelConfig,
  wasmReluGradKernelConfig,
} from './wasm/matmul.js';
import { registerSharedBuffers } from './wasm/shared-buffers.js';

registerGradient(conv2dGradConfig);
registerGradient(reluGradConfig);
registerGradient(addGradConfig);
registerGradient(fusedConv2dGradConfig);
registerGradient(batchMatMulGradConfig);
registerKernel(wasmFilterGradKernelConfig);
registerGradient(segMatMulGradConfig);
registerKernel(wasmMatMulKernelConfig);
registerGradient(segFusedMatMulGradConfig);
registerKernel(wasmFusedMatMulKernelConfig);
registerKernel(wasmColSumKernelConfig);
registerKernel(wasmReluGradKernelConfig);
registerKernel(wasmAxpyKernelConfig);
registerKernel(wasmConvKernelConfig);
registerGradient(segConv2dGradConfig);
registerSharedBuffers();
