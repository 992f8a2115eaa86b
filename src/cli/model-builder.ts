/**
 * The network-building half of ssd-edge, loaded on demand: tfjs (cpu backend, quiet) and
 * src/model. Only the commands that build networks pay for loading tfjs.
 */
export async function loadModelBuilder(): Promise<typeof import('../model/index.js')> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  tf.enableProdMode(); // also silences tfjs's "install tfjs-node" banner
  await tf.setBackend('cpu');
  return import('../model/index.js');
}
