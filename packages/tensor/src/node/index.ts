export type { GrayImage } from './image-io.js';
export {
  decodeGray,
  decodeImage,
  encodeJpeg,
  encodePng,
  readGray,
  readImage,
  writeImage,
} from './image-io.js';
