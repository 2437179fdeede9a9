import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../shared/errors';
import { encodeOnnxModel, type OnnxInitializer, type OnnxNode } from './onnx-writer';

/**
 * Converts a TF.js layers super-resolution model (model.json + binary shards, Keras functional
 * topology) into an ONNX graph that takes and returns NCHW float RGB in 0–1, the layout of
 * Real-ESRGAN exports, so one runner serves converted and imported models alike.
 *
 * Supported layers (what the ESRGAN family of @upscalerjs uses): InputLayer, Conv2D (any kernel,
 * stride and dilation; padding same/valid; linear/relu activation), Activation (relu, linear,
 * sigmoid, tanh), Concatenate (channel axis), Add, UpSampling2D (nearest), MultiplyBeta and
 * PixelShuffle{N}x. Anything else is refused with its name, never guessed.
 *
 * Conversions (Keras NHWC → ONNX NCHW):
 * - Conv kernel HWIO → OIHW; padding `same` = [(k−1)·d >> 1 before, the rest after] (TF puts the
 *   odd pixel at the end);
 * - Concatenate on the channel axis → Concat axis 1;
 * - UpSampling2D nearest → Resize(nearest, asymmetric, floor), i.e. out[y] = in[floor(y / s)];
 * - PixelShuffle → DepthToSpace in DCR mode (tf.depthToSpace on NHWC);
 * - models that work in 0–255 (the RDNs) get ×255 at the input and ×1/255 at the output.
 */

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

interface TfjsModelJson {
  format?: string;
  modelTopology: { model_config?: { class_name: string; config: { layers: KerasLayer[]; input_layers: unknown[]; output_layers: unknown[] } } };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

export interface ConvertedModel {
  onnx: Uint8Array;
  scale: number;
  /** The value range the TF.js model works in (the ONNX graph always takes 0–1). */
  valueRange: 1 | 255;
  layers: number;
  parameters: number;
}

export interface ConvertOptions {
  /** Overrides the range guess (RRDN with MultiplyBeta → 0–1, other SR graphs → 0–255). */
  valueRange?: 1 | 255;
}

export const CONVERTED_INPUT = 'image';
export const CONVERTED_OUTPUT = 'upscaled';

/** Keras activations and the ONNX op each becomes. */
const ACTIVATION_OPS = new Map([
  ['linear', 'Identity'],
  ['relu', 'Relu'],
  ['sigmoid', 'Sigmoid'],
  ['tanh', 'Tanh'],
]);

function fail(dir: string, reason: string): never {
  throw new StudioError('MODEL_INVALID', `${dir} is not a TF.js super-resolution model Atelier can convert: ${reason}.`);
}

/** The names of the layers feeding a layer (Keras 2 functional format: [[[name, node, tensor, kwargs], …]]). */
function inboundNames(layer: KerasLayer, dir: string): string[] {
  if (layer.inbound_nodes.length === 0) return [];
  if (layer.inbound_nodes.length > 1) fail(dir, `layer ${layer.name} is shared (called more than once)`);
  const node = layer.inbound_nodes[0];
  if (!Array.isArray(node)) fail(dir, `layer ${layer.name} has inbound nodes in an unknown format`);
  return node.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') fail(dir, `layer ${layer.name} has inbound nodes in an unknown format`);
    if (entry[1] !== 0 || entry[2] !== 0) fail(dir, `layer ${layer.name} uses a second output of another layer`);
    return entry[0];
  });
}

function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return [value[0] as number, value[1] as number];
  if (typeof value === 'number') return [value, value];
  return [fallback, fallback];
}

/** Reads the weights of every shard group, in manifest order, into named float32 arrays. */
async function readWeights(dir: string, manifest: TfjsModelJson['weightsManifest']): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of manifest) {
    const parts = await Promise.all(
      group.paths.map(async (p) => {
        const file = path.join(dir, p);
        if (path.relative(dir, file).startsWith('..')) fail(dir, `shard ${p} lies outside the folder`);
        if (!existsSync(file)) fail(dir, `the weight shard ${p} named in model.json is missing`);
        return fs.readFile(file);
      }),
    );
    const all = Buffer.concat(parts);
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32') fail(dir, `weight ${spec.name} is ${spec.dtype} (only float32 weights are supported; quantized exports are not)`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      if (offset + count * 4 > all.length) fail(dir, `the shards hold fewer bytes than model.json declares (at ${spec.name})`);
      // Copy: the concatenated buffer may not be 4-byte aligned for a Float32Array view.
      const data = new Float32Array(count);
      new Uint8Array(data.buffer).set(all.subarray(offset, offset + count * 4));
      weights.set(spec.name, { shape: spec.shape, data });
      offset += count * 4;
    }
  }
  return weights;
}

/** HWIO (Keras) → OIHW (ONNX). */
function kernelToOihw(shape: number[], data: Float32Array): { dims: number[]; data: Float32Array } {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++) {
        const src = ((y * kw + x) * ci + i) * co;
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = data[src + o]!;
      }
  return { dims: [co, ci, kh, kw], data: out };
}

export function readModelJson(dir: string): TfjsModelJson {
  const file = path.join(dir, 'model.json');
  if (!existsSync(file)) fail(dir, 'there is no model.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(dir, `model.json is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const model = json as Partial<TfjsModelJson>;
  if (model.format !== undefined && model.format !== 'layers-model') fail(dir, `model.json is a TF.js "${model.format}" export; only layers models are supported`);
  if (!model.modelTopology?.model_config || !Array.isArray(model.weightsManifest)) fail(dir, 'model.json has no Keras model topology or no weights manifest');
  return model as TfjsModelJson;
}

/** Converts the TF.js layers model in `dir`. */
export async function convertTfjsModel(dir: string, options: ConvertOptions = {}): Promise<ConvertedModel> {
  const json = readModelJson(dir);
  const config = json.modelTopology.model_config!;
  if (config.class_name !== 'Model' && config.class_name !== 'Functional') fail(dir, `the topology is a Keras ${config.class_name}; only functional models are supported`);
  const layers = config.config.layers;
  const inputs = layers.filter((l) => l.class_name === 'InputLayer');
  if (inputs.length !== 1) fail(dir, `a super-resolution model has one image input; this one has ${inputs.length}`);
  const inputShape = inputs[0]!.config.batch_input_shape;
  if (Array.isArray(inputShape) && inputShape.length === 4 && inputShape[3] !== 3) fail(dir, `its input has ${String(inputShape[3])} channels, not 3 (RGB)`);
  const outputLayers = config.config.output_layers;
  if (!Array.isArray(outputLayers) || outputLayers.length !== 1 || !Array.isArray(outputLayers[0]) || typeof outputLayers[0][0] !== 'string') fail(dir, 'a super-resolution model has one image output');
  const outputName = outputLayers[0][0] as string;

  const weights = await readWeights(dir, json.weightsManifest);
  const valueRange = options.valueRange ?? (layers.some((l) => l.class_name === 'MultiplyBeta') ? 1 : 255);

  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const tensorOf = new Map<string, string>();
  let scale = 1;
  let parameters = 0;
  const constant = (name: string, value: number): string => {
    initializers.push({ name, dims: [], data: Float32Array.of(value) });
    return name;
  };
  const weight = (layer: KerasLayer, part: 'kernel' | 'bias'): { shape: number[]; data: Float32Array } => {
    const w = weights.get(`${layer.name}/${part}`);
    if (!w) fail(dir, `the weight ${layer.name}/${part} is not in the weights manifest`);
    parameters += w.data.length;
    return w;
  };
  const activation = (name: string, kind: unknown, input: string, output: string): void => {
    const op = ACTIVATION_OPS.get(typeof kind === 'string' ? kind : kind === undefined || kind === null ? 'linear' : '');
    if (!op) fail(dir, `activation "${String(kind)}" (layer ${name}) is not supported`);
    nodes.push({ op, inputs: [input], outputs: [output], name });
  };

  for (const layer of layers) {
    const ins = inboundNames(layer, dir).map((n) => {
      const t = tensorOf.get(n);
      if (!t) fail(dir, `layer ${layer.name} reads ${n}, which is not defined before it`);
      return t;
    });
    const out = `${layer.name}:0`;
    const c = layer.config;
    switch (layer.class_name) {
      case 'InputLayer': {
        if (valueRange === 255) nodes.push({ op: 'Mul', inputs: [CONVERTED_INPUT, constant('input_range', 255)], outputs: [out], name: 'to_0_255' });
        else nodes.push({ op: 'Identity', inputs: [CONVERTED_INPUT], outputs: [out], name: 'input' });
        break;
      }
      case 'Conv2D': {
        if (c.data_format !== undefined && c.data_format !== 'channels_last') fail(dir, `Conv2D ${layer.name} is ${String(c.data_format)}`);
        if (c.groups !== undefined && c.groups !== 1) fail(dir, `Conv2D ${layer.name} is grouped`);
        const kernel = weight(layer, 'kernel');
        const oihw = kernelToOihw(kernel.shape, kernel.data);
        const [kh, kw] = [kernel.shape[0]!, kernel.shape[1]!];
        const strides = pair(c.strides, 1);
        const dilations = pair(c.dilation_rate, 1);
        if (c.padding === 'same' && (strides[0] !== 1 || strides[1] !== 1)) fail(dir, `Conv2D ${layer.name} uses padding "same" with a stride (not in super-resolution models)`);
        let pads = [0, 0, 0, 0];
        if (c.padding === 'same') {
          const eh = (kh - 1) * dilations[0];
          const ew = (kw - 1) * dilations[1];
          pads = [eh >> 1, ew >> 1, eh - (eh >> 1), ew - (ew >> 1)];
        } else if (c.padding !== 'valid') fail(dir, `Conv2D ${layer.name} has padding "${String(c.padding)}"`);
        initializers.push({ name: `${layer.name}/kernel`, dims: oihw.dims, data: oihw.data });
        const convInputs = [ins[0]!, `${layer.name}/kernel`];
        if (c.use_bias !== false) {
          const bias = weight(layer, 'bias');
          initializers.push({ name: `${layer.name}/bias`, dims: bias.shape, data: bias.data });
          convInputs.push(`${layer.name}/bias`);
        }
        const act = c.activation ?? 'linear';
        const convOut = act === 'linear' ? out : `${layer.name}:conv`;
        nodes.push({
          op: 'Conv',
          inputs: convInputs,
          outputs: [convOut],
          name: layer.name,
          attributes: { kernel_shape: { type: 'ints', value: [kh, kw] }, strides: { type: 'ints', value: strides }, dilations: { type: 'ints', value: dilations }, pads: { type: 'ints', value: pads } },
        });
        if (act !== 'linear') activation(`${layer.name}_act`, act, convOut, out);
        break;
      }
      case 'Activation':
        activation(layer.name, c.activation, ins[0]!, out);
        break;
      case 'ReLU':
        nodes.push({ op: 'Relu', inputs: [ins[0]!], outputs: [out], name: layer.name });
        break;
      case 'Concatenate': {
        const axis = c.axis ?? -1;
        if (axis !== -1 && axis !== 3) fail(dir, `Concatenate ${layer.name} joins on axis ${String(axis)}, not the channel axis`);
        nodes.push({ op: 'Concat', inputs: ins, outputs: [out], name: layer.name, attributes: { axis: { type: 'int', value: 1 } } });
        break;
      }
      case 'Add': {
        if (ins.length < 2) fail(dir, `Add ${layer.name} has ${ins.length} input`);
        nodes.push({ op: 'Sum', inputs: ins, outputs: [out], name: layer.name });
        break;
      }
      case 'UpSampling2D': {
        if ((c.interpolation ?? 'nearest') !== 'nearest') fail(dir, `UpSampling2D ${layer.name} uses ${String(c.interpolation)} interpolation (only nearest is supported)`);
        const [sh, sw] = pair(c.size, 2);
        if (sh !== sw) fail(dir, `UpSampling2D ${layer.name} scales height and width differently`);
        scale *= sh;
        initializers.push({ name: `${layer.name}/scales`, dims: [4], data: Float32Array.of(1, 1, sh, sw) });
        nodes.push({
          op: 'Resize',
          inputs: [ins[0]!, '', `${layer.name}/scales`],
          outputs: [out],
          name: layer.name,
          attributes: { mode: { type: 'string', value: 'nearest' }, coordinate_transformation_mode: { type: 'string', value: 'asymmetric' }, nearest_mode: { type: 'string', value: 'floor' } },
        });
        break;
      }
      case 'MultiplyBeta': {
        const beta = typeof c.beta === 'number' ? c.beta : 0.2;
        nodes.push({ op: 'Mul', inputs: [ins[0]!, constant(`${layer.name}/beta`, beta)], outputs: [out], name: layer.name });
        break;
      }
      default: {
        const shuffle = /^PixelShuffle(\d+)x$/.exec(layer.class_name);
        if (!shuffle) fail(dir, `layer type ${layer.class_name} (${layer.name}) is not supported`);
        const s = typeof c.scale === 'number' ? c.scale : Number(shuffle[1]);
        scale *= s;
        nodes.push({ op: 'DepthToSpace', inputs: [ins[0]!], outputs: [out], name: layer.name, attributes: { blocksize: { type: 'int', value: s }, mode: { type: 'string', value: 'DCR' } } });
      }
    }
    tensorOf.set(layer.name, out);
  }
  const last = tensorOf.get(outputName);
  if (!last) fail(dir, `the output layer ${outputName} is not defined`);
  if (scale < 2) fail(dir, 'it does not enlarge the image (no UpSampling2D or PixelShuffle layer)');
  if (valueRange === 255) nodes.push({ op: 'Mul', inputs: [last, constant('output_range', 1 / 255)], outputs: [CONVERTED_OUTPUT], name: 'to_0_1' });
  else nodes.push({ op: 'Identity', inputs: [last], outputs: [CONVERTED_OUTPUT], name: 'output' });

  const onnx = encodeOnnxModel({
    graphName: path.basename(dir),
    nodes,
    initializers,
    inputs: [{ name: CONVERTED_INPUT, dims: [1, 3, 'height', 'width'] }],
    outputs: [{ name: CONVERTED_OUTPUT, dims: [1, 3, 'out_height', 'out_width'] }],
    opset: 17,
    producer: 'atelier-convert-tfjs',
    metadata: { 'atelier.upscale.scale': String(scale), 'atelier.upscale.source_range': String(valueRange) },
  });
  return { onnx, scale, valueRange, layers: layers.length, parameters };
}
