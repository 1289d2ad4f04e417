/** An ImageAnalysis made from hand-made labels, measured as the pipeline measures it (tests of what follows). */
import { remeasure } from '../../src/core/pipeline';
import type { LabelImage } from '../../src/core/raster';
import type { AnalysisOptions, Calibration, ImageAnalysis } from '../../src/core/types';

export function analysisFromLabels(
  name: string,
  labels: LabelImage,
  calibration: Calibration,
  options: AnalysisOptions,
): ImageAnalysis {
  const bare: ImageAnalysis = {
    name,
    width: labels.width,
    height: labels.height,
    meta: { format: 'png', bitDepth: 8, channels: 1 },
    calibration,
    excluded: [],
    labels,
    particles: [],
    method: 'model',
    seconds: 0,
    warnings: [],
  };
  return remeasure(bare, options);
}
