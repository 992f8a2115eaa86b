/** Training data: the PASCAL VOC reader and the procedural shapes dataset generator. */
export { readVocDataset, parseVocAnnotation, parseXml, VOC_CLASSES, CLASSES_FILE } from './voc.js';
export type { VocDataset, VocItem, ReadVocOptions, VocAnnotation, XmlElement } from './voc.js';
export { generateVocDataset, renderSample, imageSeed, SHAPE_CLASSES, GENERATOR_VERSION } from './generate.js';
export type {
  GenerateOptions,
  GenerateProgress,
  GenerateResult,
  RenderOptions,
  Sample,
  SampleObject,
  ShapeClass,
} from './generate.js';
