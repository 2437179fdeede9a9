/**
 * The few ONNX protobuf messages a converted super-resolution model needs (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto), encoded by hand. Why not onnx-proto:
 * the converter runs in the shipped app on first start, and the wire format of these messages is
 * small and frozen (field numbers from onnx.proto3), so a dependency would bring more code than
 * it saves. Only writing is needed; onnxruntime is the reader.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Appends protobuf fields to a growing list of byte chunks (large weights are kept by reference). */
class Writer {
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  private varint(value: bigint | number): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, inner: Writer): this {
    this.tag(field, WIRE_LEN);
    this.varint(inner.bytes);
    for (const c of inner.chunks) this.push(c);
    return this;
  }

  packedInts(field: number, values: readonly number[]): this {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    return this.message(field, inner);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export type AttributeValue = { type: 'int'; value: number } | { type: 'float'; value: number } | { type: 'ints'; value: number[] } | { type: 'floats'; value: number[] } | { type: 'string'; value: string };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** float32 data, little-endian (the machine's order on every platform Atelier ships for). */
  data: Float32Array;
}

export interface OnnxValueInfo {
  name: string;
  /** A number for a fixed dimension, a string for a symbolic one. */
  dims: (number | string)[];
}

export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opset: number;
  producer: string;
  metadata?: Record<string, string>;
}

const FLOAT = 1;
const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function attribute(name: string, a: AttributeValue): Writer {
  const w = new Writer().string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'floats':
      // Repeated fields are written unpacked: both forms are valid protobuf.
      for (const v of a.value) w.float(7, v);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      break;
  }
  return w.int(20, ATTR_TYPE[a.type]);
}

function valueInfo(v: OnnxValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

/** Serialises a float32 graph as an ONNX ModelProto (IR version 8). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const graph = new Writer();
  for (const n of model.nodes) {
    const node = new Writer();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    if (n.name) node.string(3, n.name);
    node.string(4, n.op);
    for (const [name, a] of Object.entries(n.attributes ?? {})) node.message(5, attribute(name, a));
    graph.message(1, node);
  }
  graph.string(2, model.graphName);
  for (const t of model.initializers) {
    const tensor = new Writer();
    for (const d of t.dims) tensor.int(1, d);
    tensor.int(2, FLOAT).string(8, t.name);
    tensor.bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    graph.message(5, tensor);
  }
  for (const i of model.inputs) graph.message(11, valueInfo(i));
  for (const o of model.outputs) graph.message(12, valueInfo(o));

  const out = new Writer().int(1, 8).string(2, model.producer).message(7, graph).message(8, new Writer().string(1, '').int(2, model.opset));
  for (const [key, value] of Object.entries(model.metadata ?? {})) out.message(14, new Writer().string(1, key).string(2, value));
  return out.finish();
}
