import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import { fail } from '../common';
import { readFileNamed } from '../common/files';

/** Resolve a model location to its model.json file, or throw saying what is missing. */
export function modelJsonPath(location: string): string {
  const p = location.startsWith('file://') ? location.slice('file://'.length) : location;
  if (!fs.existsSync(p)) fail('models.load', `nothing at '${p}' (expected a model.json file or a folder holding one)`);
  if (fs.statSync(p).isDirectory()) {
    const json = path.join(p, 'model.json');
    if (!fs.existsSync(json)) {
      const present = fs.readdirSync(p).slice(0, 10).join(', ') || 'nothing';
      fail('models.load', `folder '${p}' has no model.json (it holds: ${present})`);
    }
    return json;
  }
  return p;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the manifest's weights take, or undefined when it cannot tell (string weights vary in size). */
export function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) return undefined;
    total += size * s.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

function joinWeights(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  if (Array.isArray(data)) return tf.io.CompositeArrayBuffer.join(data);
  return data;
}

/**
 * An IOHandler that reads and writes the TensorFlow.js layers format (model.json + weight
 * shards) on the local file system, so no tfjs-node is needed.
 */
export function fileIO(location: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const jsonFile = modelJsonPath(location);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(readFileNamed('models.load', jsonFile).toString('utf8')) as tf.io.ModelJSON;
      } catch (err) {
        if ((err as Error).message.startsWith('models.load:')) throw err;
        fail('models.load', `${jsonFile} is not valid JSON (${(err as Error).message})`);
      }
      if (!json.modelTopology)
        fail('models.load', `${jsonFile} has no modelTopology; is it a TensorFlow.js layers model?`);
      const dir = path.dirname(jsonFile);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      const files: string[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const shard of group.paths) {
          const file = path.join(dir, decodeURIComponent(shard));
          if (!fs.existsSync(file)) fail('models.load', `weight shard '${shard}' named in ${jsonFile} is missing`);
          buffers.push(readFileNamed('models.load', file));
          files.push(file);
        }
      }
      const all = Buffer.concat(buffers);
      // checked before tfjs makes a tensor: a short file otherwise fails half-way (leaving tensors), a long one loads
      const need = manifestBytes(specs);
      if (need !== undefined && need !== all.length)
        fail(
          'models.load',
          `the weights of ${jsonFile} (${files.join(', ')}) are ${all.length} bytes; its manifest ` +
            `needs ${need} (${all.length < need ? 'truncated' : 'too long'}: copy or download the model again)`,
        );
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData,
      };
    },
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const dir = location.endsWith('.json') ? path.dirname(location) : location;
      const jsonFile = location.endsWith('.json') ? location : path.join(dir, 'model.json');
      fs.mkdirSync(dir, { recursive: true });
      const weights = Buffer.from(joinWeights(artifacts.weightData));
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
      fs.writeFileSync(jsonFile, JSON.stringify(json));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    },
  };
}
