/**
 * Calibration: the physical size of a pixel and the rows to leave out of the analysis.
 *
 * Precedence: manual override (source 'manual') > file metadata ('metadata') > scale bar read from the image
 * ('scale-bar', value / length in px) > none (unit 'px', with a warning). The banner is detected unless the
 * options turn it off or give it by hand; the scale bar is looked for in any case so the app can show it and
 * prefill a manual calibration with its length.
 *
 * Functions for the app:
 * - `calibrate(input)`: the pipeline step.
 * - `calibrationFromLine(lengthPx, value, unit)`: manual calibration from a line drawn over a known length.
 * - `calibrationFromPreset(preset)`: apply a saved preset.
 * - `formatPixelSize(c)`: "7.344 nm/px (metadata)" for headers and tables.
 * - `formatInstrument(info)`: "Mag 50.00 K X · 5.00 kV · WD 4.2 mm" for the image header.
 * - `describeSource(c)`: one plain sentence on where the pixel size came from (tooltips, the 'none' notice).
 */
import type { GreyF32 } from '../raster';
import type {
  AnalysisOptions,
  Calibration,
  DecodedImage,
  ExcludedBand,
  InstrumentInfo,
  LengthUnit,
  ScaleBarReading,
} from '../types';
import { detectBanner } from './banner';
import { chooseUnit, isPlausiblePixelNm, readMetadata, toNm } from './metadata';
import { findScaleBarCandidates, type ScaleBarFind } from './scalebar';

export { detectBanner } from './banner';
export { findScaleBar, findScaleBarCandidates } from './scalebar';
export { readMetadata, chooseUnit, toNm, normaliseUnit } from './metadata';
export { parseScaleLabel } from './ocr';
export { renderText, measureText } from './font';

export interface CalibrateInput {
  decoded: DecodedImage;
  grey: GreyF32;
  sidecarTexts?: string[];
  options: Pick<AnalysisOptions, 'banner' | 'pixelSizeOverride'>;
}

export interface CalibrateResult {
  calibration: Calibration;
  excluded: ExcludedBand[];
  scaleBar?: ScaleBarReading;
  warnings: string[];
  /** What the scale bar gave or why it gave nothing; kept apart so a later OCR read can replace it. */
  barNote?: string;
  /** Bar candidates with the text lines around them, for the OCR step (read-bar-label.ts). */
  barCandidates: ScaleBarFind[];
}

/** A named manual calibration the app stores (IndexedDB) and offers again for the same instrument/magnification. */
export interface CalibrationPreset {
  name: string;
  instrument: string;
  magnification: string;
  pixelSize: number;
  unit: 'nm' | 'um';
}

export function calibrate(input: CalibrateInput): CalibrateResult {
  const { decoded, grey, options } = input;
  const warnings: string[] = [];
  const H = grey.height;

  let excluded: ExcludedBand[] = [];
  const banner = options.banner;
  if (banner === 'auto') {
    excluded = detectBanner(grey, { integerValued: decoded.raster.bitDepth !== 32 });
  } else if (banner !== 'off') {
    const y0 = Math.max(0, Math.min(H, Math.round(Math.min(banner.y0, banner.y1))));
    const y1 = Math.max(0, Math.min(H, Math.round(Math.max(banner.y0, banner.y1))));
    if (y1 > y0) excluded = [{ y0, y1, reason: 'manual' }];
    else
      warnings.push(
        `manual banner rows ${banner.y0}-${banner.y1} are empty or outside the image; nothing excluded`,
      );
  }

  const meta = readMetadata(decoded.meta, decoded.raster.width, input.sidecarTexts ?? []);
  warnings.push(...meta.warnings);

  let scaleBar: ScaleBarReading | undefined;
  let barCandidates: ScaleBarFind[] = [];
  try {
    barCandidates = findScaleBarCandidates(grey, { bands: excluded });
    if (barCandidates[0]?.reported) scaleBar = barCandidates[0].reading;
  } catch (e) {
    // The scale bar is a convenience; never let it fail an analysis.
    warnings.push(`scale-bar search failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  let calibration: Calibration;
  let barNote: string | undefined;
  const ov = options.pixelSizeOverride;
  if (ov) {
    if (!(ov.pixelSize > 0) || !Number.isFinite(ov.pixelSize)) {
      throw new RangeError(`pixel size override must be a positive number, got ${ov.pixelSize}`);
    }
    calibration = {
      pixelSize: ov.pixelSize,
      unit: ov.unit,
      source: 'manual',
      detail: 'set by the user',
      instrument: meta.instrument,
    };
    if (meta.pixelSizeNm !== null) {
      const metaIn = ov.unit === 'nm' ? meta.pixelSizeNm : meta.pixelSizeNm / 1000;
      if (Math.abs(metaIn / ov.pixelSize - 1) > 0.02)
        warnings.push(
          `manual pixel size ${ov.pixelSize} ${ov.unit} overrides the file's ${fmt(metaIn)} ${ov.unit} (${meta.detail ?? 'metadata'})`,
        );
    }
  } else if (meta.pixelSizeNm !== null) {
    const u = chooseUnit(meta.pixelSizeNm);
    calibration = { ...u, source: 'metadata', detail: meta.detail, instrument: meta.instrument };
  } else {
    const fromBar = calibrationFromScaleBar(scaleBar, meta.instrument);
    calibration = fromBar.calibration;
    barNote = fromBar.note;
  }
  return { calibration, excluded, scaleBar, warnings, barNote, barCandidates };
}

/**
 * The calibration a scale bar gives when the file has none: value / length when its label was read and the pixel
 * size it implies is plausible, else uncalibrated with a note saying why.
 */
export function calibrationFromScaleBar(
  scaleBar: ScaleBarReading | undefined,
  instrument: InstrumentInfo | undefined,
  readBy = '',
): { calibration: Calibration; note?: string } {
  if (scaleBar?.value !== undefined && scaleBar.unit && scaleBar.unit !== 'px') {
    const nm = toNm(scaleBar.value, scaleBar.unit)! / scaleBar.lengthPx;
    const label = scaleBar.text ?? `${scaleBar.value} ${scaleBar.unit}`;
    if (isPlausiblePixelNm(nm)) {
      return {
        calibration: {
          ...chooseUnit(nm),
          source: 'scale-bar',
          detail: `scale bar "${label}" = ${scaleBar.lengthPx} px${readBy}`,
          instrument,
        },
      };
    }
    return {
      calibration: uncalibrated(instrument),
      note: `scale bar "${label}" over ${scaleBar.lengthPx} px gives an implausible pixel size; ignored`,
    };
  }
  if (scaleBar)
    return {
      calibration: uncalibrated(instrument),
      note: `scale bar of ${scaleBar.lengthPx} px found but its label could not be read: enter its length to calibrate; sizes are in px`,
    };
  return {
    calibration: uncalibrated(instrument),
    note: 'no pixel size found (no metadata, no readable scale bar): sizes are in px',
  };
}

function uncalibrated(instrument?: InstrumentInfo): Calibration {
  return { pixelSize: null, unit: 'px', source: 'none', detail: 'no pixel size found', instrument };
}

/**
 * Manual calibration from a line of `lengthPx` pixels drawn over a feature of known `value` in `unit` (e.g. the
 * scale bar). Throws RangeError for non-positive or non-finite input.
 */
export function calibrationFromLine(lengthPx: number, value: number, unit: 'nm' | 'um'): Calibration {
  if (!(lengthPx > 0) || !Number.isFinite(lengthPx))
    throw new RangeError(`line length must be > 0 px, got ${lengthPx}`);
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`known length must be > 0, got ${value}`);
  const nm = toNm(value, unit)! / lengthPx;
  return {
    ...chooseUnit(nm),
    source: 'manual',
    detail: `line of ${fmt(lengthPx)} px = ${fmt(value)} ${unit === 'um' ? 'µm' : unit}`,
  };
}

/** Calibration for a saved preset. */
export function calibrationFromPreset(p: CalibrationPreset): Calibration {
  if (!(p.pixelSize > 0) || !Number.isFinite(p.pixelSize))
    throw new RangeError(`preset "${p.name}" has no valid pixel size`);
  return {
    pixelSize: p.pixelSize,
    unit: p.unit,
    source: 'manual',
    detail: `preset "${p.name}"${p.instrument ? ` (${p.instrument}${p.magnification ? `, ${p.magnification}` : ''})` : ''}`,
  };
}

/** A preset from a calibration the user just made; instrument/magnification prefilled from the metadata. */
export function presetFromCalibration(name: string, c: Calibration): CalibrationPreset {
  if (c.pixelSize === null || c.unit === 'px')
    throw new RangeError('cannot save an uncalibrated image as a preset');
  return {
    name,
    instrument: [c.instrument?.vendor, c.instrument?.model].filter(Boolean).join(' '),
    magnification: c.instrument?.magnification ?? '',
    pixelSize: c.pixelSize,
    unit: c.unit,
  };
}

/** Convert a calibration to the options override the pipeline takes (apply to this image or the batch). */
export function toOverride(c: Calibration): AnalysisOptions['pixelSizeOverride'] {
  if (c.pixelSize === null || c.unit === 'px') return null;
  return { pixelSize: c.pixelSize, unit: c.unit };
}

function fmt(n: number): string {
  return String(Number(n.toPrecision(4)));
}

function unitLabel(u: LengthUnit): string {
  return u === 'um' ? 'µm' : u;
}

/** "7.344 nm/px (metadata)"; "uncalibrated: px (none)" when no pixel size. */
export function formatPixelSize(c: Calibration): string {
  if (c.pixelSize === null || c.unit === 'px') return `uncalibrated: sizes in px (${c.source})`;
  return `${fmt(c.pixelSize)} ${unitLabel(c.unit)}/px (${c.source})`;
}

/** One sentence on where the pixel size came from. */
export function describeSource(c: Calibration): string {
  switch (c.source) {
    case 'metadata':
      return `Pixel size read from the file's metadata${c.detail ? `: ${c.detail}` : ''}.`;
    case 'scale-bar':
      return `Pixel size read from the scale bar in the image${c.detail ? `: ${c.detail}` : ''}. Check the bar and its label.`;
    case 'manual':
      return `Pixel size set by hand${c.detail ? `: ${c.detail}` : ''}.`;
    default:
      return 'No pixel size: the file has no calibration and no readable scale bar, so sizes are in pixels. Draw a line over the scale bar to calibrate.';
  }
}

/** Instrument fields for the header, in a fixed order: "Zeiss · Mag = 50.00 K X · EHT 5.00 kV · WD 4.2 mm". */
export function formatInstrument(info: InstrumentInfo | undefined): string {
  if (!info) return '';
  const parts: string[] = [];
  if (info.vendor) parts.push(info.model ? `${info.vendor} ${info.model}` : info.vendor);
  if (info.magnification) parts.push(`Mag ${info.magnification}`);
  if (info.voltage) parts.push(info.voltage);
  if (info.workingDistance) parts.push(`WD ${info.workingDistance}`);
  if (info.detector) parts.push(info.detector);
  return parts.join(' · ');
}
