/**
 * Reading a coupon's barcode from the camera: QR, CODE_128 and CODE_39 (the formats campaigns
 * print). The browser's own `BarcodeDetector` when it has one for all three formats; otherwise
 * @zxing/library, served from this origin (/assets/vendor/zxing-library.js) and loaded only then.
 */

const FORMATS = ['qr_code', 'code_128', 'code_39'];
const ZXING_URL = '/assets/vendor/zxing-library.js';
/** Frames are scaled down to this width before decoding: enough for a coupon held up to the camera. */
const MAX_WIDTH = 960;
/** Pause between two decoding attempts. */
const FRAME_GAP_MS = 120;

interface DetectedBarcode { rawValue: string }
interface BarcodeDetectorLike { detect(source: CanvasImageSource): Promise<DetectedBarcode[]> }
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

/** The parts of @zxing/library the scanner uses. */
interface ZXingResult { getText(): string }
interface ZXingLibrary {
  MultiFormatReader: new () => { setHints(hints: Map<unknown, unknown>): void; decode(bitmap: unknown): ZXingResult };
  BinaryBitmap: new (binarizer: unknown) => unknown;
  HybridBinarizer: new (source: unknown) => unknown;
  RGBLuminanceSource: new (luminances: Uint8ClampedArray, width: number, height: number) => unknown;
  DecodeHintType: { POSSIBLE_FORMATS: unknown; TRY_HARDER: unknown };
  BarcodeFormat: { QR_CODE: unknown; CODE_128: unknown; CODE_39: unknown };
  NotFoundException: new () => Error;
  ChecksumException: new () => Error;
  FormatException: new () => Error;
}

export interface Decoder {
  /** Which decoder reads the frames: `native` (BarcodeDetector) or `zxing`. */
  kind: 'native' | 'zxing';
  /** The text of a barcode in the frame, or null when there is none it can read. */
  decode(frame: HTMLCanvasElement): Promise<string | null>;
}

async function nativeDecoder(): Promise<Decoder | null> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (!Detector) return null;
  try {
    const supported = await Detector.getSupportedFormats();
    if (!FORMATS.every((f) => supported.includes(f))) return null;
    const detector = new Detector({ formats: FORMATS });
    return { kind: 'native', async decode(frame) {
      const found = await detector.detect(frame);
      return found[0]?.rawValue ?? null;
    } };
  } catch {
    return null;
  }
}

async function zxingDecoder(): Promise<Decoder> {
  const Z = ((await import(ZXING_URL)) as { default: ZXingLibrary }).default;
  const hints = new Map<unknown, unknown>([
    [Z.DecodeHintType.POSSIBLE_FORMATS, [Z.BarcodeFormat.QR_CODE, Z.BarcodeFormat.CODE_128, Z.BarcodeFormat.CODE_39]],
    [Z.DecodeHintType.TRY_HARDER, true],
  ]);
  const reader = new Z.MultiFormatReader();
  reader.setHints(hints);
  return { kind: 'zxing', async decode(frame) {
    const g = frame.getContext('2d', { willReadFrequently: true })!;
    const { data, width, height } = g.getImageData(0, 0, frame.width, frame.height);
    const luminance = new Uint8ClampedArray(width * height);
    for (let i = 0, p = 0; i < luminance.length; i++, p += 4) {
      luminance[i] = (data[p]! * 299 + data[p + 1]! * 587 + data[p + 2]! * 114) / 1000;
    }
    try {
      return reader.decode(new Z.BinaryBitmap(new Z.HybridBinarizer(new Z.RGBLuminanceSource(luminance, width, height)))).getText();
    } catch (err) {
      // Nothing readable in this frame: the next one may be.
      if (err instanceof Z.NotFoundException || err instanceof Z.ChecksumException || err instanceof Z.FormatException) return null;
      throw err;
    }
  } };
}

let decoder: Promise<Decoder> | undefined;
export function barcodeDecoder(): Promise<Decoder> {
  decoder ??= nativeDecoder().then((d) => d ?? zxingDecoder());
  return decoder;
}

/** Why the camera could not start, in words for the person at the till. */
export function cameraProblem(err: unknown): string {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'The camera is not allowed for this page. Allow it in the browser\'s settings, or type the code below.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Type the code below.';
  if (name === 'NotReadableError' || name === 'AbortError') return 'The camera is busy in another app. Close it there, or type the code below.';
  return `The camera did not start (${err instanceof Error ? err.message : String(err)}). Type the code below.`;
}

export interface ScanSession {
  stop(): void;
}

/**
 * Starts the back camera in `video` and decodes frames until a barcode is read (`onCode`, once;
 * the camera stops first) or `stop()` is called. Rejects when the camera cannot start.
 */
export async function startScanning(video: HTMLVideoElement, onCode: (code: string, kind: Decoder['kind']) => void): Promise<ScanSession> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new DOMException('this page is not on https, or the browser has no camera access', 'SecurityError');
  }
  const [stream, reader] = await Promise.all([
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } }, audio: false }),
    barcodeDecoder(),
  ]);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  video.srcObject = stream;
  try {
    await video.play();
  } catch (err) {
    stop();
    throw err;
  }
  const frame = document.createElement('canvas');
  const tick = async () => {
    if (stopped) return;
    if (video.videoWidth > 0) {
      const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
      frame.width = Math.round(video.videoWidth * scale);
      frame.height = Math.round(video.videoHeight * scale);
      frame.getContext('2d', { willReadFrequently: true })!.drawImage(video, 0, 0, frame.width, frame.height);
      const code = (await reader.decode(frame))?.trim();
      if (code && !stopped) {
        stop();
        onCode(code, reader.kind);
        return;
      }
    }
    if (!stopped) timer = setTimeout(() => void tick(), FRAME_GAP_MS);
  };
  void tick();
  return { stop };
}
