/**
 * MRC (MRC2014, as written by SerialEM, IMOD, cryo-EM and some TEM cameras): a 1024-byte header of 32-bit words,
 * an optional extended header, then the sections. Only the first section of a stack is read; rows are kept in
 * file order. The pixel size is the cell length over the sampling (CELLA.x / MX), in ångström.
 */
import type { Raster } from '../raster';
import type { DecodedImage } from '../types';
import { checkDimensions, inputError, wrapDecoderError } from './common';

const HEADER = 1024;
/** IMOD writes this in word 39 and a flag word after it; bit 0 clear means mode-0 bytes are unsigned. */
const IMOD_STAMP = 1146047817;

/** MRC2014 requires "MAP " at byte 208; that is the only signature the format has. */
export function isMrc(b: Uint8Array): boolean {
  return b.length >= 212 && b[208] === 0x4d && b[209] === 0x41 && b[210] === 0x50 && b[211] === 0x20;
}

const MODES: Record<number, { bytes: number; bits: number }> = {
  0: { bytes: 1, bits: 8 },
  1: { bytes: 2, bits: 16 },
  2: { bytes: 4, bits: 32 },
  6: { bytes: 2, bits: 16 },
  12: { bytes: 2, bits: 16 },
};
const REFUSED: Record<number, string> = {
  3: 'complex int16',
  4: 'complex float32',
  101: '4-bit packed',
};

function half(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function decodeMrc(bytes: Uint8Array, name?: string): DecodedImage {
  try {
    return decode(bytes, name);
  } catch (err) {
    throw wrapDecoderError(name, 'MRC', err);
  }
}

function decode(bytes: Uint8Array, name: string | undefined): DecodedImage {
  if (bytes.length < HEADER)
    throw inputError(name, `truncated MRC file (${bytes.length} bytes, header needs 1024)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Machine stamp: 0x44 0x44 (or 0x44 0x41) little endian, 0x11 0x11 big endian.
  const le = bytes[212] !== 0x11;
  const i32 = (o: number) => dv.getInt32(o, le);
  const nx = i32(0);
  const ny = i32(4);
  const nz = i32(8);
  const mode = i32(12);
  checkDimensions(name, nx, ny);
  if (REFUSED[mode]) throw inputError(name, `unsupported MRC image (${REFUSED[mode]} pixels, mode ${mode})`);
  const m = MODES[mode];
  if (!m) throw inputError(name, `unsupported MRC image (mode ${mode})`);
  const ext = i32(92);
  if (ext < 0 || ext > bytes.length - HEADER)
    throw inputError(name, `corrupt MRC file (extended header of ${ext} bytes does not fit the file)`);
  const at = HEADER + ext;
  const n = nx * ny;
  if (n * m.bytes > bytes.length - at) {
    throw inputError(
      name,
      `truncated MRC file (image data ends at byte ${bytes.length}, ${nx}x${ny} needs ${at + n * m.bytes})`,
    );
  }

  let raster: Raster;
  if (mode === 0) {
    const unsigned = i32(152) === IMOD_STAMP && (i32(156) & 1) === 0;
    if (unsigned) raster = { width: nx, height: ny, data: bytes.slice(at, at + n), bitDepth: 8, channels: 1 };
    else {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getInt8(at + i);
      raster = { width: nx, height: ny, data, bitDepth: 32, channels: 1 };
    }
  } else if (mode === 6) {
    const data = new Uint16Array(n);
    for (let i = 0; i < n; i++) data[i] = dv.getUint16(at + 2 * i, le);
    raster = { width: nx, height: ny, data, bitDepth: 16, channels: 1 };
  } else {
    const data = new Float32Array(n);
    if (mode === 1) for (let i = 0; i < n; i++) data[i] = dv.getInt16(at + 2 * i, le);
    else if (mode === 2) for (let i = 0; i < n; i++) data[i] = dv.getFloat32(at + 4 * i, le);
    else for (let i = 0; i < n; i++) data[i] = half(dv.getUint16(at + 2 * i, le));
    raster = { width: nx, height: ny, data, bitDepth: 32, channels: 1 };
  }

  const mx = i32(28);
  const cellX = dv.getFloat32(40, le);
  let scale = mx > 0 && cellX > 0 && Number.isFinite(cellX) ? cellX / mx : null;
  const frames = Math.max(1, nz);
  const warnings =
    frames > 1 ? [`MRC file holds a stack of ${frames} sections; only the first is analysed`] : [];
  // Writers that do not know the pixel size set the cell to the sampling, which reads as exactly 1 Å.
  if (scale !== null && Math.abs(scale - 1) < 1e-6) {
    scale = null;
    warnings.push(
      'MRC header gives exactly 1 Å/px, the value written when the pixel size is unknown; ignored',
    );
  }
  return {
    raster,
    meta: {
      format: 'mrc',
      bitDepth: m.bits,
      channels: 1,
      pages: frames,
      embedded: { source: 'MRC header', scale, unit: 'Å', warnings },
    },
  };
}
