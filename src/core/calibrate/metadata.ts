/**
 * Pixel size and instrument fields from file metadata: vendor TIFF tags and side-car text files.
 *
 * Supported (each tried in this order; the first that yields a pixel size wins, instrument fields are merged):
 * - Zeiss SmartSEM: TIFF tag 34118, lines `Image Pixel Size = 7.344 nm` (or `Pixel Size = ...`), Mag, EHT, WD.
 * - FEI / Thermo Fisher: TIFF tag 34682 (or 34680) INI text, `[Scan] PixelWidth=` / `[EScan] PixelWidth=` in metres.
 * - Tescan: TIFF tag 50431 INI text, `PixelSizeX=` in metres.
 * - ImageJ / Fiji: ImageDescription starting `ImageJ=` with `unit=`, XResolution = pixels per unit.
 * - Hitachi side-car text: `PixelSize=` in nm (plus Magnification, AcceleratingVoltage, WorkingDistance).
 * - JEOL side-car text: `$$SM_MICRON_BAR <px>` with `$$SM_MICRON_MARKER <len><unit>` (scaled to the image width
 *   when `$CM_FULL_SIZE` says the bar was measured on a different width).
 * - Plain TIFF XResolution + ResolutionUnit (inch/cm), only when plausible for electron microscopy.
 * - Gatan DM3/DM4 and MRC: the calibration the decoder read from the file's own structure (`meta.embedded`):
 *   the image's Calibrations.Dimension[0] Scale/Units tags, the MRC cell size over the sampling; tried first.
 *
 * Unit convention: pixel sizes are normalised to nanometres internally; reported in nm when the pixel is smaller
 * than 1000 nm, otherwise in um (see `chooseUnit`).
 */
import type { EmbeddedCalibration, ImageMeta, InstrumentInfo, LengthUnit, TagValue } from '../types';

export const TAG_IMAGE_DESCRIPTION = 270;
export const TAG_X_RESOLUTION = 282;
export const TAG_RESOLUTION_UNIT = 296;
export const TAG_ZEISS = 34118;
export const TAG_FEI_SFEG = 34680;
export const TAG_FEI_HELIOS = 34682;
export const TAG_TESCAN = 50431;

/** Plausible pixel sizes for EM images, nm. Outside this range a metadata value is ignored as bogus. */
export const MIN_PIXEL_NM = 0.01;
export const MAX_PIXEL_NM = 100_000;

export interface MetadataResult {
  /** Pixel size in nm, or null when no usable metadata. */
  pixelSizeNm: number | null;
  /** Which field gave it, for the user (e.g. "Zeiss tag 34118: Image Pixel Size = 7.344 nm"). */
  detail?: string;
  instrument?: InstrumentInfo;
  warnings: string[];
}

const NM_PER_UNIT: Record<string, number> = {
  pm: 1e-3,
  nm: 1,
  um: 1e3,
  mm: 1e6,
  cm: 1e7,
  m: 1e9,
  a: 0.1,
};

/**
 * Normalises a length unit as written by instruments and ImageJ: 'µm', 'μm', 'um', 'micron', '\u00B5m' escapes,
 * mis-decoded 'Âµm', 'Å'. Returns the key of NM_PER_UNIT or null.
 */
export function normaliseUnit(raw: string): keyof typeof NM_PER_UNIT | null {
  let u = raw.trim();
  u = u
    .replace(/\\u00b5|\\u03bc/gi, 'µ')
    .replace(/Âµ/g, 'µ')
    .replace(/\u03BC/g, 'µ');
  const low = u.toLowerCase();
  if (low === 'pm' || low === 'picometer' || low === 'picometre') return 'pm';
  if (low === 'nm' || low === 'nanometer' || low === 'nanometre' || low === 'nanometers') return 'nm';
  if (/^(µm|um|micron|microns|micrometer|micrometre|micrometers|micrometres)$/.test(low)) return 'um';
  // A single unreadable character before 'm' is almost always a mangled micro sign (latin-1 vs UTF-8).
  if (/^[\uFFFD?]m$/.test(low)) return 'um';
  if (low === 'mm' || low === 'millimeter' || low === 'millimetre') return 'mm';
  if (low === 'cm' || low === 'centimeter' || low === 'centimetre') return 'cm';
  if (low === 'm' || low === 'meter' || low === 'metre') return 'm';
  if (u === 'Å' || u === '\u212B' || low === 'angstrom') return 'a';
  return null;
}

/** Length in nm for `value` in a raw unit string, or null when the unit is not a length. */
export function toNm(value: number, unit: string): number | null {
  const k = normaliseUnit(unit);
  if (k === null || !Number.isFinite(value)) return null;
  return value * NM_PER_UNIT[k]!;
}

/** Reporting convention: nm below 1000 nm per pixel, um at or above. */
export function chooseUnit(pixelSizeNm: number): { pixelSize: number; unit: Exclude<LengthUnit, 'px'> } {
  return pixelSizeNm < 1000
    ? { pixelSize: pixelSizeNm, unit: 'nm' }
    : { pixelSize: pixelSizeNm / 1000, unit: 'um' };
}

export function isPlausiblePixelNm(nm: number): boolean {
  return Number.isFinite(nm) && nm >= MIN_PIXEL_NM && nm <= MAX_PIXEL_NM;
}

/** Tag value as text: ASCII tags arrive as strings, private tags sometimes as byte arrays (latin-1). */
export function tagText(v: TagValue | undefined): string | null {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array || Array.isArray(v)) {
    let s = '';
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (c === 0) {
        // Zeiss blocks are NUL-terminated; keep going only if more text follows (some writers pad).
        s += '\n';
        continue;
      }
      s += String.fromCharCode(c);
    }
    return s;
  }
  return null;
}

/** Numeric tag value: rationals may arrive as a number or as [numerator, denominator]. */
export function tagNumber(v: TagValue | undefined): number | null {
  if (v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : null;
  }
  if (v.length === 0) return null;
  if (v.length >= 2 && !(v instanceof Uint8Array)) {
    const d = v[1]!;
    return d === 0 ? null : v[0]! / d;
  }
  return v[0]!;
}

const NUM = '([-+]?\\d+(?:[.,]\\d+)?(?:[eE][-+]?\\d+)?)';

function parseNum(s: string): number {
  return Number(s.replace(',', '.'));
}

function fmt(n: number, digits = 4): string {
  return String(Number(n.toPrecision(digits)));
}

/**
 * Longest metadata line we read. Real key=value lines are a few dozen characters; a longer one is binary
 * junk or an attack, and skipping it keeps every parser below linear in the text's length.
 */
export const MAX_LINE = 4096;

/** The text's lines (CR, LF or CRLF), those longer than MAX_LINE left out. */
function lines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 10;
    if (c !== 10 && c !== 13) continue;
    if (i - start <= MAX_LINE) out.push(text.slice(start, i));
    if (c === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10) i++;
    start = i + 1;
  }
  return out;
}

/**
 * `key = value` lines as a map (keys trimmed and lower-cased, values trimmed; the first occurrence wins).
 * indexOf, not a regular expression: the old `^\s*([^=]+?)\s*=` took minutes on one long line of spaces.
 */
function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    if (key !== '' && !out.has(key)) out.set(key, line.slice(eq + 1).trim());
  }
  return out;
}

// ---------------------------------------------------------------- Zeiss

export function parseZeiss(text: string): MetadataResult | null {
  const fields = keyValues(text);
  if (fields.size === 0) return null;
  const warnings: string[] = [];
  let pixelSizeNm: number | null = null;
  let detail: string | undefined;
  for (const key of ['image pixel size', 'pixel size']) {
    const v = fields.get(key);
    if (v === undefined) continue;
    const m = new RegExp(`^${NUM}\\s*(\\S+)`).exec(v);
    if (!m) {
      warnings.push(`Zeiss pixel size "${v}" is not a number and was ignored`);
      continue;
    }
    const nm = toNm(parseNum(m[1]!), m[2]!);
    if (nm === null) continue;
    if (!isPlausiblePixelNm(nm)) {
      warnings.push(`Zeiss pixel size "${v}" is implausible for EM and was ignored`);
      continue;
    }
    pixelSizeNm = nm;
    detail = `Zeiss tag 34118: ${key === 'pixel size' ? 'Pixel Size' : 'Image Pixel Size'} = ${v}`;
    break;
  }
  const instrument: InstrumentInfo = { vendor: 'Zeiss' };
  const mag = fields.get('mag') ?? fields.get('magnification');
  if (mag) instrument.magnification = mag;
  const eht = fields.get('eht') ?? fields.get('eht target');
  if (eht) instrument.voltage = eht;
  const wd = fields.get('wd') ?? fields.get('working distance');
  if (wd) instrument.workingDistance = wd;
  const det = fields.get('signal a') ?? fields.get('detector');
  if (det) instrument.detector = det;
  const date = fields.get('date');
  if (date) instrument.date = date;
  if (pixelSizeNm === null && !mag && !eht) return null;
  return { pixelSizeNm, detail, instrument, warnings };
}

// ---------------------------------------------------------------- INI (FEI, Tescan)

export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section = new Map<string, string>();
  out.set('', section);
  for (const raw of lines(text)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.length > 2 && line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1).trim().toLowerCase();
      section = out.get(name) ?? new Map<string, string>();
      out.set(name, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) section.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return out;
}

function iniGet(ini: Map<string, Map<string, string>>, section: string, key: string): string | undefined {
  return ini.get(section)?.get(key);
}

function iniFind(ini: Map<string, Map<string, string>>, keys: string[]): string | undefined {
  for (const k of keys) for (const sec of ini.values()) if (sec.has(k)) return sec.get(k);
  return undefined;
}

function metresField(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v.replace(',', '.'));
  return Number.isFinite(n) && n > 0 ? n : null;
}

export function parseFei(text: string): MetadataResult | null {
  const ini = parseIni(text);
  const warnings: string[] = [];
  let pixelSizeNm: number | null = null;
  let detail: string | undefined;
  for (const sec of ['scan', 'escan']) {
    const v = iniGet(ini, sec, 'pixelwidth');
    const m = metresField(v);
    if (m === null) continue;
    const nm = m * 1e9;
    if (!isPlausiblePixelNm(nm)) {
      warnings.push(`FEI [${sec}] PixelWidth=${v} is implausible and was ignored`);
      continue;
    }
    pixelSizeNm = nm;
    detail = `FEI tag 34682: [${sec === 'scan' ? 'Scan' : 'EScan'}] PixelWidth=${v} m`;
    break;
  }
  const instrument: InstrumentInfo = { vendor: 'FEI/Thermo Fisher' };
  const hv = metresField(iniGet(ini, 'beam', 'hv') ?? iniGet(ini, 'ebeam', 'hv') ?? iniFind(ini, ['hv']));
  if (hv !== null) instrument.voltage = hv >= 1000 ? `${fmt(hv / 1000)} kV` : `${fmt(hv)} V`;
  const wd = metresField(
    iniGet(ini, 'stage', 'workingdistance') ??
      iniGet(ini, 'ebeam', 'wd') ??
      iniFind(ini, ['workingdistance', 'wd']),
  );
  if (wd !== null) instrument.workingDistance = `${fmt(wd * 1000)} mm`;
  const mag = iniFind(ini, ['magnification', 'mag']);
  if (mag) instrument.magnification = /x$/i.test(mag) ? mag : `${mag} x`;
  const hfw = metresField(iniGet(ini, 'ebeam', 'horfieldsize') ?? iniGet(ini, 'scan', 'horfieldsize'));
  if (hfw !== null) instrument.horizontalFieldWidth = `${fmt(hfw * 1e6)} um`;
  const sys = iniGet(ini, 'system', 'systemtype') ?? iniGet(ini, 'system', 'type');
  if (sys) instrument.model = sys;
  const det = iniGet(ini, 'detectors', 'name') ?? iniGet(ini, 'detectors', 'mode');
  if (det) instrument.detector = det;
  if (pixelSizeNm === null && Object.keys(instrument).length === 1) return null;
  return { pixelSizeNm, detail, instrument, warnings };
}

export function parseTescan(text: string): MetadataResult | null {
  const ini = parseIni(text);
  const v = iniFind(ini, ['pixelsizex']);
  const m = metresField(v);
  const instrument: InstrumentInfo = { vendor: 'Tescan' };
  const hv = metresField(iniFind(ini, ['hv']));
  if (hv !== null) instrument.voltage = hv >= 1000 ? `${fmt(hv / 1000)} kV` : `${fmt(hv)} V`;
  const wd = metresField(iniFind(ini, ['wd']));
  if (wd !== null) instrument.workingDistance = `${fmt(wd * 1000)} mm`;
  const mag = iniFind(ini, ['magnification']);
  if (mag) instrument.magnification = `${mag} x`;
  const warnings: string[] = [];
  if (m !== null && isPlausiblePixelNm(m * 1e9)) {
    return { pixelSizeNm: m * 1e9, detail: `Tescan tag 50431: PixelSizeX=${v} m`, instrument, warnings };
  }
  if (m !== null) warnings.push(`Tescan PixelSizeX=${v} is implausible and was ignored`);
  if (Object.keys(instrument).length === 1) return null;
  return { pixelSizeNm: null, instrument, warnings };
}

// ---------------------------------------------------------------- ImageJ

/** Parses `key=value` lines of an ImageJ ImageDescription. */
export function parseImageJDescription(text: string): Map<string, string> | null {
  if (!/^\s*ImageJ=/.test(text)) return null;
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return out;
}

export function parseImageJ(description: string, xResolution: number | null): MetadataResult | null {
  const d = parseImageJDescription(description);
  if (!d) return null;
  const unitRaw = d.get('unit');
  const warnings: string[] = [];
  if (!unitRaw || /^(pixel|pixels|px)$/i.test(unitRaw)) return { pixelSizeNm: null, warnings };
  // ImageJ stores pixels per unit; pixel width = 1 / XResolution. A missing/1.0 resolution means uncalibrated.
  if (xResolution === null || !(xResolution > 0)) return { pixelSizeNm: null, warnings };
  const perPixel = 1 / xResolution;
  const nm = toNm(perPixel, unitRaw);
  if (nm === null) {
    warnings.push(`ImageJ unit "${unitRaw}" is not a length unit; ignored`);
    return { pixelSizeNm: null, warnings };
  }
  if (!isPlausiblePixelNm(nm)) {
    warnings.push(`ImageJ calibration ${fmt(perPixel)} ${unitRaw}/px is implausible for EM and was ignored`);
    return { pixelSizeNm: null, warnings };
  }
  return {
    pixelSizeNm: nm,
    detail: `ImageJ: ${fmt(perPixel, 5)} ${unitRaw.replace(/\\u00b5/i, 'µ')}/px (unit=${unitRaw}, XResolution)`,
    instrument: { vendor: 'ImageJ/Fiji' },
    warnings,
  };
}

// ---------------------------------------------------------------- plain TIFF resolution

/** Resolutions that scanners, cameras and image editors write by default; never a microscope calibration. */
const DEFAULT_DPI = [
  72, 96, 100, 120, 144, 150, 180, 200, 240, 256, 300, 360, 400, 600, 720, 1200, 2400, 4800,
];

export function parsePlainResolution(
  xResolution: number | null,
  resolutionUnit: number | null,
): MetadataResult | null {
  if (xResolution === null || !(xResolution > 0)) return null;
  // ResolutionUnit: 1 none, 2 inch (default when absent), 3 cm.
  const unit = resolutionUnit ?? 2;
  if (unit !== 2 && unit !== 3) return null;
  const dpi = unit === 2 ? xResolution : xResolution * 2.54;
  for (const d of DEFAULT_DPI) if (Math.abs(dpi - d) <= d * 0.005) return null;
  const nm = (unit === 2 ? 25.4e6 : 1e7) / xResolution;
  if (!isPlausiblePixelNm(nm)) return null;
  return {
    pixelSizeNm: nm,
    detail: `TIFF XResolution ${fmt(xResolution, 6)} px/${unit === 2 ? 'inch' : 'cm'}`,
    warnings: [],
  };
}

// ---------------------------------------------------------------- side-cars

export function parseHitachi(text: string): MetadataResult | null {
  const fields = keyValues(text);
  if (!fields.has('pixelsize') && !/\[SemImageFile\]/i.test(text)) return null;
  const get = (key: string): string | undefined => fields.get(key.toLowerCase());
  const warnings: string[] = [];
  const instrument: InstrumentInfo = { vendor: 'Hitachi' };
  const mag = get('Magnification');
  if (mag) instrument.magnification = /x$/i.test(mag) ? mag : `${mag} x`;
  const acc = get('AcceleratingVoltage') ?? get('AccelerationVoltage');
  if (acc) {
    const m = new RegExp(`^${NUM}\\s*(\\w*)`).exec(acc);
    if (m) {
      const v = parseNum(m[1]!);
      const u = m[2]!.toLowerCase();
      instrument.voltage = u.startsWith('k') ? `${fmt(v)} kV` : `${fmt(v / 1000)} kV`;
    } else instrument.voltage = acc;
  }
  const wd = get('WorkingDistance');
  if (wd) {
    const m = new RegExp(`^${NUM}\\s*(\\S*)`).exec(wd);
    const nm = m ? toNm(parseNum(m[1]!), m[2] || 'um') : null;
    instrument.workingDistance = nm !== null ? `${fmt(nm / 1e6)} mm` : wd;
  }
  const model = get('InstructName') ?? get('InstrumentName');
  if (model) instrument.model = model;
  let pixelSizeNm: number | null = null;
  let detail: string | undefined;
  const ps = get('PixelSize');
  if (ps !== undefined) {
    const m = new RegExp(`^${NUM}\\s*(\\S*)`).exec(ps);
    if (m) {
      const nm = toNm(parseNum(m[1]!), m[2] || 'nm');
      if (nm !== null && isPlausiblePixelNm(nm)) {
        pixelSizeNm = nm;
        detail = `Hitachi side-car: PixelSize=${ps}${m[2] ? '' : ' nm'}`;
      } else warnings.push(`Hitachi PixelSize=${ps} is implausible and was ignored`);
    } else warnings.push(`Hitachi PixelSize=${ps} is not a number and was ignored`);
  }
  return { pixelSizeNm, detail, instrument, warnings };
}

/** JEOL `$KEY value` / `$$KEY value` lines (case kept; the first occurrence wins). */
function jeolFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of lines(text)) {
    const line = raw.trim();
    if (!line.startsWith('$')) continue;
    const from = line.startsWith('$$') ? 2 : 1;
    let sp = from;
    while (sp < line.length && line.charCodeAt(sp) > 32) sp++;
    if (sp === from || sp === line.length) continue; // no key, or no whitespace after it
    const key = line.slice(from, sp);
    if (!out.has(key)) out.set(key, line.slice(sp).trim());
  }
  return out;
}

export function parseJeol(text: string, imageWidth: number): MetadataResult | null {
  if (!/\$\$?(SM|CM)_/.test(text)) return null;
  const fields = jeolFields(text);
  const get = (key: string): string | undefined => fields.get(key);
  const warnings: string[] = [];
  const instrument: InstrumentInfo = { vendor: 'JEOL' };
  const mag = get('CM_MAG');
  if (mag) instrument.magnification = `${mag} x`;
  const kv = get('CM_ACCEL_VOLT');
  if (kv) instrument.voltage = `${kv} kV`;
  const wd = get('SM_WD') ?? get('CM_WD') ?? get('SM_WORKING_DISTANCE');
  if (wd) instrument.workingDistance = /[a-z]$/i.test(wd) ? wd : `${wd} mm`;
  const model = get('CM_INSTRUMENT');
  if (model) instrument.model = model;
  let pixelSizeNm: number | null = null;
  let detail: string | undefined;
  const bar = get('SM_MICRON_BAR');
  const marker = get('SM_MICRON_MARKER');
  if (bar !== undefined && marker !== undefined) {
    const barPx = Number(bar);
    const m = new RegExp(`^${NUM}\\s*(\\S+)`).exec(marker);
    const len = m ? toNm(parseNum(m[1]!), m[2]!) : null;
    if (barPx > 0 && len !== null) {
      let nm = len / barPx;
      let note = '';
      const full = get('CM_FULL_SIZE');
      const fw = full ? Number(full.split(/\s+/)[0]) : NaN;
      if (fw > 0 && imageWidth > 0 && fw !== imageWidth) {
        // The bar was measured on the full-size scan; this file was saved at another width.
        nm *= fw / imageWidth;
        note = ` (scaled from $CM_FULL_SIZE width ${fw} to ${imageWidth})`;
      }
      if (isPlausiblePixelNm(nm)) {
        pixelSizeNm = nm;
        detail = `JEOL side-car: $$SM_MICRON_MARKER ${marker} over $$SM_MICRON_BAR ${bar} px${note}`;
      } else warnings.push(`JEOL scale marker ${marker} / ${bar} px is implausible and was ignored`);
    }
  }
  return { pixelSizeNm, detail, instrument, warnings };
}

// ---------------------------------------------------------------- DM3/DM4, MRC

export function parseEmbedded(e: EmbeddedCalibration): MetadataResult {
  const warnings = [...(e.warnings ?? [])];
  const unitShown = e.unit.replace(/^um$/, 'µm');
  let pixelSizeNm: number | null = null;
  let detail: string | undefined;
  if (e.scale !== null) {
    const stored = `${e.source} ${fmt(e.scale, 5)} ${unitShown}/px`;
    const nm = toNm(e.scale, e.unit);
    if (nm === null) warnings.push(`${stored}: "${e.unit}" is not a length unit, so no pixel size`);
    else if (!isPlausiblePixelNm(nm)) warnings.push(`${stored} is implausible for EM and was ignored`);
    else {
      pixelSizeNm = nm;
      detail = normaliseUnit(e.unit) === 'nm' ? stored : `${stored} (${fmt(nm, 5)} nm)`;
    }
  }
  return { pixelSizeNm, detail, instrument: e.instrument, warnings };
}

// ---------------------------------------------------------------- all together

function mergeInstrument(
  a: InstrumentInfo | undefined,
  b: InstrumentInfo | undefined,
): InstrumentInfo | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: InstrumentInfo = { ...a };
  for (const [k, v] of Object.entries(b)) if (out[k] === undefined && v !== undefined) out[k] = v;
  return out;
}

/**
 * Reads everything the metadata says. Vendor tags beat side-cars (they travel with the pixels), side-cars beat
 * ImageJ/plain resolution (those are often stale after re-saving).
 */
export function readMetadata(
  meta: ImageMeta,
  imageWidth: number,
  sidecarTexts: string[] = [],
): MetadataResult {
  const tags = meta.tiffTags ?? {};
  const candidates: (MetadataResult | null)[] = [];
  if (meta.embedded) candidates.push(parseEmbedded(meta.embedded));
  const zeiss = tagText(tags[TAG_ZEISS]);
  if (zeiss) candidates.push(parseZeiss(zeiss));
  const fei = tagText(tags[TAG_FEI_HELIOS]) ?? tagText(tags[TAG_FEI_SFEG]);
  if (fei) candidates.push(parseFei(fei));
  const tescan = tagText(tags[TAG_TESCAN]);
  if (tescan) candidates.push(parseTescan(tescan));
  for (const t of sidecarTexts) candidates.push(parseHitachi(t) ?? parseJeol(t, imageWidth));
  const xres = tagNumber(tags[TAG_X_RESOLUTION]);
  const desc = tagText(tags[TAG_IMAGE_DESCRIPTION]);
  const ij = desc ? parseImageJ(desc, xres) : null;
  if (ij) candidates.push(ij);
  else if (meta.format === 'tiff')
    candidates.push(parsePlainResolution(xres, tagNumber(tags[TAG_RESOLUTION_UNIT])));

  let best: MetadataResult | null = null;
  let instrument: InstrumentInfo | undefined;
  const warnings: string[] = [];
  for (const c of candidates) {
    if (!c) continue;
    warnings.push(...c.warnings);
    // Every parser checks plausibility itself; this catches one that forgets (NaN, Infinity, 1e30 nm).
    if (c.pixelSizeNm !== null && !isPlausiblePixelNm(c.pixelSizeNm)) {
      warnings.push(
        `pixel size ${c.pixelSizeNm} nm from ${c.detail ?? 'metadata'} is implausible and was ignored`,
      );
      c.pixelSizeNm = null;
    }
    if (c.pixelSizeNm !== null && best === null) {
      best = c;
      // The source of the pixel size leads the instrument fields.
      instrument = mergeInstrument(c.instrument, instrument);
    } else instrument = mergeInstrument(instrument, c.instrument);
  }
  return {
    pixelSizeNm: best?.pixelSizeNm ?? null,
    detail: best?.detail,
    instrument: instrument && Object.keys(instrument).length > 0 ? instrument : undefined,
    warnings,
  };
}
