import { readdirSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import type { BackendName } from '../domain/face/face-types.js';

/**
 * Loads TensorFlow.js and the two model packages inside a worker. The backend is chosen once:
 * @tensorflow/tfjs-node when it can be loaded (an optional dependency; its install downloads
 * libtensorflow), otherwise the WebAssembly backend, whose binaries ship in its package.
 * Models are read from the package folders on disk, never fetched.
 */

const require = createRequire(import.meta.url);

export type Tf = typeof tfc;

/** The parts of a human face result this project reads. */
export interface HumanFace {
  score: number;
  boxScore: number;
  box: [number, number, number, number];
  mesh: number[][];
  annotations: Record<string, number[][]>;
  embedding?: number[];
  real?: number;
  live?: number;
}

export interface HumanInstance {
  load(): Promise<void>;
  detect(input: tfc.Tensor, config?: Record<string, unknown>): Promise<{ face: HumanFace[]; error?: string | null }>;
}

interface HumanModule {
  Human: new (config: Record<string, unknown>) => HumanInstance;
}

/** The face-api nets this project uses. */
export interface FaceApiModule {
  nets: {
    faceRecognitionNet: {
      loadFromDisk(dir: string): Promise<void>;
      forward(input: tfc.Tensor3D[]): Promise<tfc.Tensor2D>;
    };
  };
}

export interface TfRuntime {
  backend: BackendName;
  tf: Tf;
  humanModule: HumanModule;
  faceApi: FaceApiModule;
  /** Folder of human's model files, as a file:// base path for its config. */
  humanModelBase: string;
  faceApiModelDir: string;
  wasmDir: string;
  versions: { human: string; faceApi: string; tfjs: string };
}

let runtime: Promise<TfRuntime> | null = null;

/** Loads TensorFlow.js once per thread; concurrent callers share the promise. */
export function loadTfRuntime(): Promise<TfRuntime> {
  runtime ??= createRuntime();
  return runtime;
}

async function createRuntime(): Promise<TfRuntime> {
  const humanDist = path.dirname(require.resolve('@vladmandic/human'));
  const faceApiDist = path.dirname(require.resolve('@vladmandic/face-api'));
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const native = await tryLoadTfjsNode();
  const backend: BackendName = native ? 'tensorflow' : 'wasm';

  const tf = require('@tensorflow/tfjs-core') as Tf;
  if (backend === 'wasm') {
    aliasTfjsUmbrella(tf);
    registerChainedOps(tf);
  }
  // Routers answer null for URLs they do not handle, though the type says otherwise.
  tf.io.registerLoadRouter((url) =>
    typeof url === 'string' && url.startsWith('file://') ? fileHandler(tf, url) : (null as unknown as tfc.io.IOHandler),
  );

  const humanModule = require(path.join(humanDist, backend === 'wasm' ? 'human.node-wasm.js' : 'human.node.js')) as HumanModule;
  const faceApi = require(path.join(faceApiDist, backend === 'wasm' ? 'face-api.node-wasm.js' : 'face-api.node.js')) as FaceApiModule;

  return {
    backend,
    tf,
    humanModule,
    faceApi,
    humanModelBase: `file://${path.join(humanDist, '..', 'models')}/`,
    faceApiModelDir: path.join(faceApiDist, '..', 'model'),
    wasmDir: `${wasmDir}${path.sep}`,
    versions: {
      human: packageVersion(path.join(humanDist, '..')),
      faceApi: packageVersion(path.join(faceApiDist, '..')),
      tfjs: tf.version_core,
    },
  };
}

/** Loads the native backend through its public entry point; false when the optional package is absent. */
async function tryLoadTfjsNode(): Promise<boolean> {
  // A variable specifier keeps TypeScript from requiring the optional package's types.
  const name = '@tensorflow/tfjs-node';
  try {
    await import(name);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return false;
    // Installed but broken (e.g. libtensorflow missing): fall back, but not silently.
    process.emitWarning(`@tensorflow/tfjs-node failed to load, using wasm: ${(err as Error).message}`);
    return false;
  }
}

/**
 * face-api's wasm build requires the umbrella @tensorflow/tfjs package, which only bundles
 * core and converter for what face-api uses; without it installed, answer that request with
 * the core and converter modules already loaded, so every library shares one engine.
 */
function aliasTfjsUmbrella(tf: Tf): void {
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const virtualPath = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core')), '__tfjs-umbrella-alias__.js');
  if (mod._cache[virtualPath]) return;
  try {
    require.resolve('@tensorflow/tfjs');
    return; // the real package is installed; use it
  } catch {
    // expected without the umbrella package: alias it below
  }
  const alias = new Module(virtualPath);
  alias.filename = virtualPath;
  alias.loaded = true;
  alias.exports = { ...tf, ...(require('@tensorflow/tfjs-converter') as object) };
  mod._cache[virtualPath] = alias;
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === '@tensorflow/tfjs' ? virtualPath : original.call(this, request, ...rest);
  };
}

/**
 * The umbrella package also installs chained tensor methods (`t.reshape(...)`), which face-api
 * calls. tfjs-core ships one module per chained method in dist/public/chained_ops, as ESM that
 * Node cannot load; install the same methods, named after those files, as thin wrappers around
 * the functional ops. Only that list: a wrapper named like a creator (`tensor`) would shadow
 * what other libraries probe for on tensors.
 */
function registerChainedOps(tf: Tf): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  if (typeof proto['as4D'] === 'function') return;
  const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core')), 'public', 'chained_ops');
  const namespaces = [tf, tf.image, tf.spectral] as unknown as Array<Record<string, unknown>>;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.js') || file.includes('test') || file.startsWith('register_all')) continue;
    const name = file.slice(0, -3).replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const method = name === 'batchnorm' ? 'batchNorm' : name;
    const op = namespaces.map((ns) => ns[method]).find((f) => typeof f === 'function') as ((...a: unknown[]) => unknown) | undefined;
    if (!op || method in proto) continue;
    proto[method] = function (this: tfc.Tensor, ...args: unknown[]) {
      return op(this, ...args);
    };
  }
  const reshape = (t: tfc.Tensor, shape: number[]) => tf.reshape(t, shape);
  proto['as1D'] = function (this: tfc.Tensor) {
    return reshape(this, [this.size]);
  };
  proto['as2D'] = function (this: tfc.Tensor, r: number, c: number) {
    return reshape(this, [r, c]);
  };
  proto['as3D'] = function (this: tfc.Tensor, r: number, c: number, d: number) {
    return reshape(this, [r, c, d]);
  };
  proto['as4D'] = function (this: tfc.Tensor, r: number, c: number, d: number, e: number) {
    return reshape(this, [r, c, d, e]);
  };
  proto['asType'] = function (this: tfc.Tensor, dtype: tfc.DataType) {
    return tf.cast(this, dtype);
  };
  proto['toFloat'] = function (this: tfc.Tensor) {
    return tf.cast(this, 'float32');
  };
  proto['toInt'] = function (this: tfc.Tensor) {
    return tf.cast(this, 'int32');
  };
  proto['toBool'] = function (this: tfc.Tensor) {
    return tf.cast(this, 'bool');
  };
}

/** A tfjs IOHandler reading a graph model (model.json + shards) from disk. */
function fileHandler(tf: Tf, url: string): tfc.io.IOHandler {
  return {
    async load(): Promise<tfc.io.ModelArtifacts> {
      const jsonPath = new URL(url).pathname;
      const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as tfc.io.ModelJSON;
      const dir = path.dirname(jsonPath);
      const specs: tfc.io.WeightsManifestEntry[] = [];
      const shards: Buffer[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) shards.push(readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(shards);
      const artifacts = tf.io.getModelArtifactsForJSONSync(json, specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength));
      return artifacts;
    },
  };
}

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}
