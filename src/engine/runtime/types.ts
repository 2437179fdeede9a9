import type * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../shared/engine-protocol';

/** A loaded ONNX session together with the execution provider that actually runs it. */
export interface LoadedSession {
  session: ort.InferenceSession;
  path: string;
  provider: ProviderName;
  /** Why the provider differs from the preferred one (kept on the generation). */
  providerNote?: string;
}

/** What pipelines use to get sessions: the runtime's cache, provider chain and file checks. */
export interface SessionSource {
  load(modelFile: string): Promise<LoadedSession>;
}
