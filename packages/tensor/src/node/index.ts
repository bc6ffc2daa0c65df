export type { GrayImage, ImageFormat, ReadImageOptions } from './image-io.js';
export {
  DEFAULT_MAX_PIXELS,
  decodeGray,
  decodeImage,
  encodeJpeg,
  encodePng,
  ImageFileError,
  ImageTooLargeError,
  imageFormatOf,
  makeFolder,
  readGray,
  readImage,
  writeFileAtomic,
  writeImage,
} from './image-io.js';
