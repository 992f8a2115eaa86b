/** PyTorch checkpoints (.pth, both torch.save formats; state dicts only, nothing executed) → ssd-edge ONNX models. */
export { CheckpointMismatchError, PthFormatError, UnsafePickleError } from './errors.js';
export { ALLOWED_GLOBALS, unpickle, type PickleValue } from './pickle.js';
export { findStateDict, isPth, readPth, type PthCheckpoint, type PthFormat, type StateDict } from './read.js';
export {
  convertPytorchSsd,
  convertPytorchStateDict,
  detectArch,
  PYTORCH_ARCHS,
  SSD_PYTORCH_VGG,
  type PytorchArch,
  type PytorchConversionReport,
  type PytorchConvertOptions,
} from './ssd.js';
export { TorchTensor, type TorchDtype, type TorchStorage } from './tensor.js';
export { isZip, ZipArchive, type ZipEntry } from './zip.js';
