import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * TF.js itself (pure-JS CPU backend) running the @upscalerjs models: the reference the converted
 * ONNX graphs must match. The two custom layers of esrgan-thick are defined here as the
 * @upscalerjs sources define them (x·β, and tf.depthToSpace in NHWC).
 */

class MultiplyBeta extends tfl.layers.Layer {
  static className = 'MultiplyBeta';
  private readonly beta: number;
  constructor(config: { beta?: number; name?: string }) {
    super(config);
    this.beta = config.beta ?? 0.2;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.mul(x, this.beta);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), beta: this.beta };
  }
}

function pixelShuffle(scale: number): typeof tfl.layers.Layer & tf.serialization.SerializableConstructor<tf.serialization.Serializable> {
  class PixelShuffle extends tfl.layers.Layer {
    static className = `PixelShuffle${scale}x`;
    override computeOutputShape(shape: tfl.Shape | tfl.Shape[]): tfl.Shape {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tfl.Shape;
      return [s[0]!, s[1] === null ? null : s[1]! * scale, s[2] === null ? null : s[2]! * scale, 3];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      return tf.depthToSpace(x, scale, 'NHWC');
    }
  }
  return PixelShuffle;
}

let registered = false;
function registerCustomLayers(): void {
  if (registered) return;
  registered = true;
  tf.serialization.registerClass(MultiplyBeta);
  for (const s of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffle(s));
}

/** Loads a TF.js layers model from a folder (the file:// handler exists only in tfjs-node). */
export async function loadTfjsModel(dir: string): Promise<tfl.LayersModel> {
  registerCustomLayers();
  await tf.setBackend('cpu');
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler: tf.io.IOHandler = { load: async () => ({ modelTopology: json.modelTopology, weightSpecs, weightData }) };
  return tfl.loadLayersModel(handler);
}

/** Runs the model on an NHWC image in the model's own value range; returns NHWC float32. */
export function runTfjs(model: tfl.LayersModel, pixels: Float32Array, width: number, height: number): { data: Float32Array; width: number; height: number } {
  const out = tf.tidy(() => {
    const x = tf.tensor4d(pixels, [1, height, width, 3]);
    return model.predict(x) as tf.Tensor4D;
  });
  const [, h, w] = out.shape;
  const data = out.dataSync() as Float32Array;
  const copy = new Float32Array(data);
  out.dispose();
  return { data: copy, width: w, height: h };
}
