// tfjs-core's Node entry registers no gradients, and its ESM files (with
// extension-less imports) cannot be imported from Node: bundling these two
// registrations gives one module that can. The bundled registry code keeps
// its state on tfjs's global namespace, so it registers into the same engine
// as the `@tensorflow/tfjs-core` a program imports.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
