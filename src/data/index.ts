export { DataError, formatProblem, type Problem } from './errors.js';
export { parseJsonText, readJsonFile } from './json.js';
export {
  loadCoco,
  inspectCoco,
  imagePath,
  type CocoDataset,
  type CocoImage,
  type CocoCategory,
  type CocoAnnotation,
  type CocoInspection,
  type LoadCocoOptions,
} from './coco.js';
export { decodeImage, encodePng, imageSize, type RgbImage } from './image.js';
export { planResize, renderInput, transformBoxes, IMAGENET_NORMALIZATION, type Normalization, type ResizePlan } from './transform.js';
export { BatchLoader, type Batch, type BatchLoaderOptions } from './loader.js';
export { makeDataset, type DatasetKind, type MakeDatasetOptions, type MakeDatasetSummary } from './make.js';
export { summarizeDataset, formatDatasetInfo, sizeClass, trainingProblems, decodeProblems, type DatasetSummary } from './info.js';
export { SHAPE_CLASSES } from './generate/shapes.js';
