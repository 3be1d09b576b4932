/** A detector from its resolved model config: weights from the seed, the builder from the registry. */
import { Rng } from '../util/rng.js';
import type { FasterRcnnConfig } from './faster_rcnn.js';
import { buildFasterRcnn } from './faster_rcnn.js';
import type { FcosConfig } from './fcos.js';
import { buildFcos } from './fcos.js';
import type { ModelConfig } from './config.js';
import { detectorSpec } from './kinds.js';
import { ParamStore } from './layers.js';
import type { DetectorModel } from './model.js';

/** Builds a detector from its resolved model config (weights from the seed) with its kind's builder from the registry (loaded on first use). */
export async function createDetector(model: ModelConfig, seed: number): Promise<DetectorModel> {
  const spec = detectorSpec(model.detector);
  const build = await spec.load();
  return build(new ParamStore(new Rng(seed)), (model as unknown as Record<string, FcosConfig & FasterRcnnConfig>)[spec.configKey]!);
}

/** The same, synchronous, for callers that have the detectors loaded (tests, benches). */
export function buildDetector(model: ModelConfig, seed: number): DetectorModel {
  const ps = new ParamStore(new Rng(seed));
  return model.detector === 'fcos' ? buildFcos(ps, model.fcos) : buildFasterRcnn(ps, model.rcnn);
}
