/**
 * Draws a throw-away histogram off screen while the app waits for files. Plotly sets up most of itself at its
 * first plot, not when its script is evaluated: in the batch benchmark the first result's histogram took ~260 ms
 * of the page's thread (trace and axis modules, margins, text measuring), during the next image's network run,
 * which then lost a core. Drawn here, the real first plot costs what later ones do.
 */
import type PlotlyNs from 'plotly.js-dist-min';

type Plotly = typeof PlotlyNs;

let warmed: Promise<boolean> = Promise.resolve(false);

/** Whether the warm-up plot was drawn (and removed again), once it has ended (tests). */
export function plotlyWarmed(): Promise<boolean> {
  return warmed;
}

export function warmPlotly(plotly: Plotly): Promise<boolean> {
  warmed = draw(plotly).then(
    () => true,
    () => false,
  );
  return warmed;
}

async function draw(plotly: Plotly): Promise<void> {
  const el = document.createElement('div');
  el.setAttribute('aria-hidden', 'true');
  // Laid out (Plotly measures text and margins), but off screen and out of the way.
  el.style.cssText = 'position:fixed;left:-10000px;top:0;width:640px;height:360px;pointer-events:none;';
  document.body.append(el);
  try {
    const x = [10, 20, 30, 40, 50];
    const axis = { automargin: true, title: { text: 'warm-up' } };
    await plotly.newPlot(
      el,
      [
        { type: 'bar', x, y: [1, 4, 6, 3, 1], width: 10, marker: { opacity: 0.8 } },
        { type: 'scatter', mode: 'lines', x, y: [1, 4, 6, 3, 1], hoverinfo: 'skip' },
      ] as never,
      {
        barmode: 'overlay',
        bargap: 0,
        xaxis: axis,
        yaxis: { ...axis, rangemode: 'tozero' },
        legend: { orientation: 'h' },
        showlegend: true,
      } as never,
      { responsive: true, displaylogo: false } as never,
    );
  } finally {
    plotly.purge(el);
    el.remove();
  }
}
