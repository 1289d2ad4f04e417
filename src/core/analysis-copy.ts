/**
 * Helpers for handing analyses across the worker boundary: the worker keeps its own labels (edits and
 * history work on them) and transfers a copy, so the page gets the buffer without a structured-clone copy.
 */
import type { AnalysisOptions, Calibration, ImageAnalysis } from './types';

/** A copy whose labels buffer may be transferred; particles are plain data and cloned by postMessage. */
export function cloneAnalysis(a: ImageAnalysis): ImageAnalysis {
  return { ...a, labels: { ...a.labels, data: a.labels.data.slice() } };
}

/**
 * The calibration an analysis reports: the user's manual pixel size when one is set (this image or the
 * whole batch), else what the pipeline found in the file or image.
 */
export function applyCalibration(
  a: ImageAnalysis,
  options: AnalysisOptions,
  auto: Calibration,
): ImageAnalysis {
  const o = options.pixelSizeOverride;
  if (!o) return a.calibration === auto ? a : { ...a, calibration: auto };
  if (
    a.calibration.source === 'manual' &&
    a.calibration.pixelSize === o.pixelSize &&
    a.calibration.unit === o.unit
  )
    return a;
  return {
    ...a,
    calibration: {
      pixelSize: o.pixelSize,
      unit: o.unit,
      source: 'manual',
      detail: a.calibration.source === 'manual' ? a.calibration.detail : 'set by hand',
      instrument: auto.instrument,
    },
  };
}
