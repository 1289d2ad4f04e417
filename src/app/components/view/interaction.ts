/**
 * The image view's tools as a pure state machine: (state, event) -> { state, effects }. ImageView turns DOM
 * pointer and key events into these events (in both screen and image coordinates) and carries out the effects
 * (intents to its parent, moving the view); multi-touch pinch tracking stays in the component.
 */
import { particleAlongLine, type EditIntent } from '../../../core/edit';
import type { Tool } from './tools';

/** Labels as the view holds them: row-major ids, 0 = background. */
export interface LabelGrid {
  data: Int32Array;
  width: number;
  height: number;
}

/** A line in image pixels (continuous: pixel centres on .5). */
export interface Line {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type Drag =
  /** ox, oy: the view offset when the drag began; click: a plain left press that may become a click. */
  | { kind: 'pan'; sx: number; sy: number; ox: number; oy: number; moved: boolean; click: boolean }
  /** points: whole image pixels [x, y, ...]; label: the particle the stroke began on (null = a new one). */
  | { kind: 'stroke'; points: number[]; label: number | null; erase: boolean }
  | ({ kind: 'line'; split: boolean } & Line);

export interface ToolState {
  drag: Drag | null;
  /** The merge tool's first particle, waiting for the second. */
  mergeFirst: number | null;
  /** The last measuring line, shown until the tool changes or Esc. */
  measured: Line | null;
}

export const IDLE: ToolState = { drag: null, mergeFirst: null, measured: null };

export type ToolEvent =
  | {
      kind: 'down';
      tool: Tool;
      /** The pointer button (0 left, 1 middle, 2 right); middle, right and Space + drag always pan. */
      button: number;
      spaceDown: boolean;
      sx: number;
      sy: number;
      ix: number;
      iy: number;
      /** The view offset now, for a pan. */
      ox: number;
      oy: number;
    }
  | { kind: 'move'; sx: number; sy: number; ix: number; iy: number }
  | { kind: 'up'; tool: Tool; ix: number; iy: number; brushRadius: number }
  /** A second finger: the drag becomes a pan about the fingers' midpoint that never clicks. */
  | { kind: 'pinch'; sx: number; sy: number; ox: number; oy: number }
  /** The pointers are gone without an up to act on (the end of a pinch). */
  | { kind: 'release' }
  | { kind: 'escape'; selectedId: number | null }
  | { kind: 'tool'; tool: Tool };

export type ToolEffect =
  | { kind: 'select'; id: number | null }
  | { kind: 'edit'; intent: EditIntent }
  | ({ kind: 'measure' } & Line)
  /** Move the view so the image's top-left corner is at (ox, oy). */
  | { kind: 'pan'; ox: number; oy: number };

export interface ToolResult {
  state: ToolState;
  effects: ToolEffect[];
}

/** A press moves this many CSS px before it is a drag rather than a click. */
export const CLICK_SLOP = 4;
/** A split line shorter than this (image px) is taken for a slip and ignored. */
export const MIN_SPLIT = 2;
/** A measuring line shorter than this (image px) is ignored. */
export const MIN_MEASURE = 1;

/** The particle id under an image point (0 = background or outside). */
export function idAt(l: LabelGrid | null, ix: number, iy: number): number {
  if (!l) return 0;
  const x = Math.floor(ix);
  const y = Math.floor(iy);
  if (x < 0 || y < 0 || x >= l.width || y >= l.height) return 0;
  return l.data[y * l.width + x];
}

export function lineLength(l: Line): number {
  return Math.hypot(l.x1 - l.x0, l.y1 - l.y0);
}

/** Tools whose press pans on a drag and acts on a click. */
function clickTool(tool: Tool): boolean {
  return tool === 'select' || tool === 'delete' || tool === 'merge';
}

const same = (state: ToolState): ToolResult => ({ state, effects: [] });

export function reduceTool(state: ToolState, ev: ToolEvent, labels: LabelGrid | null): ToolResult {
  switch (ev.kind) {
    case 'down': {
      const { tool, sx, sy, ix, iy } = ev;
      const panOnly = ev.button === 1 || ev.button === 2 || ev.spaceDown;
      let drag: Drag | null = null;
      if (panOnly || clickTool(tool)) {
        drag = {
          kind: 'pan',
          sx,
          sy,
          ox: ev.ox,
          oy: ev.oy,
          moved: false,
          click: !panOnly && ev.button === 0,
        };
      } else if (tool === 'brush' || tool === 'erase') {
        const under = idAt(labels, ix, iy);
        const points = [Math.floor(ix), Math.floor(iy)];
        drag = { kind: 'stroke', points, label: under > 0 ? under : null, erase: tool === 'erase' };
      } else if (tool === 'split' || tool === 'calibrate') {
        drag = { kind: 'line', x0: ix, y0: iy, x1: ix, y1: iy, split: tool === 'split' };
      }
      return same({ ...state, drag });
    }
    case 'move': {
      const d = state.drag;
      if (!d) return same(state);
      if (d.kind === 'pan') {
        const dx = ev.sx - d.sx;
        const dy = ev.sy - d.sy;
        const moved = d.moved || Math.hypot(dx, dy) > CLICK_SLOP;
        const drag = moved === d.moved ? d : { ...d, moved };
        return {
          state: drag === d ? state : { ...state, drag },
          effects: moved ? [{ kind: 'pan', ox: d.ox + dx, oy: d.oy + dy }] : [],
        };
      }
      if (d.kind === 'stroke') {
        const px = Math.floor(ev.ix);
        const py = Math.floor(ev.iy);
        const n = d.points.length;
        if (px === d.points[n - 2] && py === d.points[n - 1]) return same(state);
        return same({ ...state, drag: { ...d, points: [...d.points, px, py] } });
      }
      return same({ ...state, drag: { ...d, x1: ev.ix, y1: ev.iy } });
    }
    case 'up': {
      const d = state.drag;
      const idle = { ...state, drag: null };
      if (!d) return same(state);
      if (d.kind === 'pan')
        return d.moved || !d.click ? same(idle) : click(idle, ev.tool, idAt(labels, ev.ix, ev.iy));
      if (d.kind === 'stroke') {
        const { points } = d;
        const radius = ev.brushRadius;
        const intent: EditIntent = d.erase
          ? { kind: 'erase', points, radius }
          : { kind: 'brush', points, radius, label: d.label };
        return { state: idle, effects: [{ kind: 'edit', intent }] };
      }
      if (d.split) {
        // Edit coordinates put pixel centres on integers.
        const x0 = d.x0 - 0.5;
        const y0 = d.y0 - 0.5;
        const x1 = d.x1 - 0.5;
        const y1 = d.y1 - 0.5;
        if (Math.hypot(x1 - x0, y1 - y0) < MIN_SPLIT || !labels) return same(idle);
        const id = particleAlongLine({ ...labels, count: 0 }, x0, y0, x1, y1);
        return id > 0
          ? { state: idle, effects: [{ kind: 'edit', intent: { kind: 'split', id, x0, y0, x1, y1 } }] }
          : same(idle);
      }
      if (lineLength(d) < MIN_MEASURE) return same(idle);
      const line = { x0: d.x0, y0: d.y0, x1: d.x1, y1: d.y1 };
      return { state: { ...idle, measured: line }, effects: [{ kind: 'measure', ...line }] };
    }
    case 'pinch':
      return same({
        ...state,
        drag: { kind: 'pan', sx: ev.sx, sy: ev.sy, ox: ev.ox, oy: ev.oy, moved: true, click: false },
      });
    case 'release':
      return same({ ...state, drag: null });
    case 'escape': {
      const effects: ToolEffect[] =
        !state.drag && ev.selectedId !== null ? [{ kind: 'select', id: null }] : [];
      return { state: IDLE, effects };
    }
    case 'tool':
      return same({
        drag: state.drag,
        mergeFirst: null,
        measured: ev.tool === 'calibrate' ? state.measured : null,
      });
  }
}

/** A click (a press that did not move) with a clicking tool on particle `id` (0 = background). */
function click(state: ToolState, tool: Tool, id: number): ToolResult {
  if (tool === 'select') return { state, effects: [{ kind: 'select', id: id > 0 ? id : null }] };
  if (tool === 'delete') {
    return { state, effects: id > 0 ? [{ kind: 'edit', intent: { kind: 'delete', id } }] : [] };
  }
  if (tool !== 'merge') return same(state);
  if (id <= 0) return same({ ...state, mergeFirst: null });
  if (state.mergeFirst === null || state.mergeFirst === id) return same({ ...state, mergeFirst: id });
  const intent: EditIntent = { kind: 'merge', a: state.mergeFirst, b: id };
  return { state: { ...state, mergeFirst: null }, effects: [{ kind: 'edit', intent }] };
}
