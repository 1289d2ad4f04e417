import { describe, expect, it } from 'vitest';
import {
  IDLE,
  idAt,
  lineLength,
  reduceTool,
  type LabelGrid,
  type ToolEvent,
  type ToolState,
} from '../src/app/components/view/interaction';
import type { Tool } from '../src/app/components/view/tools';

// 6 x 4: particle 1 in columns 0-1, particle 2 in columns 3-5 (rows 1-2), background elsewhere.
// prettier-ignore
const grid: LabelGrid = {
  width: 6,
  height: 4,
  data: Int32Array.from([
    1, 1, 0, 0, 0, 0,
    1, 1, 0, 2, 2, 2,
    1, 1, 0, 2, 2, 2,
    0, 0, 0, 0, 0, 0,
  ]),
};

const down = (tool: Tool, ix: number, iy: number, extra: Partial<ToolEvent> = {}): ToolEvent =>
  ({
    kind: 'down',
    tool,
    button: 0,
    spaceDown: false,
    sx: ix * 10,
    sy: iy * 10,
    ix,
    iy,
    ox: 5,
    oy: 7,
    ...extra,
  }) as ToolEvent;
const move = (ix: number, iy: number): ToolEvent => ({ kind: 'move', sx: ix * 10, sy: iy * 10, ix, iy });
const up = (tool: Tool, ix: number, iy: number): ToolEvent => ({ kind: 'up', tool, ix, iy, brushRadius: 3 });

/** Runs events from IDLE, collecting every effect. */
function run(events: ToolEvent[], start: ToolState = IDLE) {
  let state = start;
  const effects = [];
  for (const ev of events) {
    const r = reduceTool(state, ev, grid);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

describe('geometry', () => {
  it('idAt reads the label under a point, 0 outside the image or without labels', () => {
    expect(idAt(grid, 0.9, 2.99)).toBe(1);
    expect(idAt(grid, 4.5, 1.0)).toBe(2);
    expect(idAt(grid, 2.5, 1.5)).toBe(0);
    expect(idAt(grid, -0.1, 1)).toBe(0);
    expect(idAt(grid, 6, 1)).toBe(0);
    expect(idAt(null, 1, 1)).toBe(0);
  });

  it('lineLength is Euclidean', () => {
    expect(lineLength({ x0: 1, y0: 1, x1: 4, y1: 5 })).toBe(5);
  });
});

describe('select, delete, merge: click or pan', () => {
  it('a click selects the particle under it, or nothing on background', () => {
    expect(run([down('select', 0.5, 0.5), up('select', 0.5, 0.5)]).effects).toEqual([
      { kind: 'select', id: 1 },
    ]);
    expect(run([down('select', 2.5, 0.5), up('select', 2.5, 0.5)]).effects).toEqual([
      { kind: 'select', id: null },
    ]);
  });

  it('a drag past the slop pans from the offset at the press and does not click', () => {
    // Screen moves (0,0) -> (3,0) -> (30,40): the first is within 4 px, the second pans by (30, 40).
    const r = run([down('select', 0, 0), move(0.3, 0), move(3, 4), up('select', 3, 4)]);
    expect(r.effects).toEqual([{ kind: 'pan', ox: 35, oy: 47 }]);
    expect(r.state).toEqual(IDLE);
  });

  it('right, middle and Space + left always pan, and never click', () => {
    for (const extra of [{ button: 2 }, { button: 1 }, { spaceDown: true }]) {
      expect(run([down('brush', 0.5, 0.5, extra), up('brush', 0.5, 0.5)]).effects).toEqual([]);
      expect(run([down('split', 0, 0, extra), move(1, 0)]).effects).toEqual([{ kind: 'pan', ox: 15, oy: 7 }]);
    }
  });

  it('delete removes the clicked particle, and ignores background', () => {
    expect(run([down('delete', 4, 2), up('delete', 4, 2)]).effects).toEqual([
      { kind: 'edit', intent: { kind: 'delete', id: 2 } },
    ]);
    expect(run([down('delete', 2, 2), up('delete', 2, 2)]).effects).toEqual([]);
  });

  it('merge takes two clicks; the same particle twice or background does not merge', () => {
    const first = run([down('merge', 0, 0), up('merge', 0, 0)]);
    expect(first.state.mergeFirst).toBe(1);
    expect(first.effects).toEqual([]);
    expect(run([down('merge', 1, 1), up('merge', 1, 1)], first.state).state.mergeFirst).toBe(1);
    expect(run([down('merge', 2, 3), up('merge', 2, 3)], first.state).state.mergeFirst).toBeNull();
    const second = run([down('merge', 4, 1), up('merge', 4, 1)], first.state);
    expect(second.effects).toEqual([{ kind: 'edit', intent: { kind: 'merge', a: 1, b: 2 } }]);
    expect(second.state.mergeFirst).toBeNull();
  });
});

describe('brush and eraser', () => {
  it('a brush stroke extends the particle it starts on, with each new pixel once', () => {
    const r = run([
      down('brush', 1.2, 1.7),
      move(1.9, 1.1),
      move(2.1, 1.5),
      move(3.5, 2.5),
      up('brush', 3.5, 2.5),
    ]);
    expect(r.effects).toEqual([
      { kind: 'edit', intent: { kind: 'brush', points: [1, 1, 2, 1, 3, 2], radius: 3, label: 1 } },
    ]);
    expect(r.state.drag).toBeNull();
  });

  it('a brush stroke begun on background makes a new particle', () => {
    expect(run([down('brush', 2.5, 3.5), up('brush', 2.5, 3.5)]).effects).toEqual([
      { kind: 'edit', intent: { kind: 'brush', points: [2, 3], radius: 3, label: null } },
    ]);
  });

  it('the eraser sends its stroke as an erase', () => {
    expect(run([down('erase', 4, 1), move(5, 2), up('erase', 5, 2)]).effects).toEqual([
      { kind: 'edit', intent: { kind: 'erase', points: [4, 1, 5, 2], radius: 3 } },
    ]);
  });

  it('does not change the stroke in the state it was given', () => {
    const a = run([down('brush', 0, 0)]).state;
    const b = reduceTool(a, move(3, 3), grid).state;
    expect(a.drag).toEqual({ kind: 'stroke', points: [0, 0], label: 1, erase: false });
    expect(b.drag).toEqual({ kind: 'stroke', points: [0, 0, 3, 3], label: 1, erase: false });
  });
});

describe('split', () => {
  it('a line across a particle splits it, in edit coordinates (pixel centres on integers)', () => {
    const r = run([down('split', 4.5, 0.5), move(4.5, 3.5), up('split', 4.5, 3.5)]);
    expect(r.effects).toEqual([
      { kind: 'edit', intent: { kind: 'split', id: 2, x0: 4, y0: 0, x1: 4, y1: 3 } },
    ]);
  });

  it('a line shorter than 2 px or over background only does nothing', () => {
    expect(run([down('split', 4.5, 0.5), move(4.5, 2.4), up('split', 4.5, 2.4)]).effects).toEqual([]);
    expect(run([down('split', 2.5, 0.5), move(2.5, 3.5), up('split', 2.5, 3.5)]).effects).toEqual([]);
  });
});

describe('measuring line', () => {
  it('reports the line and keeps it until Esc or another tool', () => {
    const r = run([down('calibrate', 0.5, 0.5), move(3.5, 4.5), up('calibrate', 3.5, 4.5)]);
    const line = { x0: 0.5, y0: 0.5, x1: 3.5, y1: 4.5 };
    expect(r.effects).toEqual([{ kind: 'measure', ...line }]);
    expect(r.state.measured).toEqual(line);
    expect(reduceTool(r.state, { kind: 'tool', tool: 'calibrate' }, grid).state.measured).toEqual(line);
    expect(reduceTool(r.state, { kind: 'tool', tool: 'select' }, grid).state.measured).toBeNull();
    expect(reduceTool(r.state, { kind: 'escape', selectedId: null }, grid).state).toEqual(IDLE);
  });

  it('a line under 1 px is ignored', () => {
    expect(run([down('calibrate', 1, 1), move(1.5, 1.5), up('calibrate', 1.5, 1.5)]).effects).toEqual([]);
  });
});

describe('escape, tool change, pinch', () => {
  it('Esc cancels a drag first and only then clears the selection', () => {
    const dragging = run([down('brush', 0, 0)]).state;
    expect(reduceTool(dragging, { kind: 'escape', selectedId: 3 }, grid)).toEqual({
      state: IDLE,
      effects: [],
    });
    expect(reduceTool(IDLE, { kind: 'escape', selectedId: 3 }, grid).effects).toEqual([
      { kind: 'select', id: null },
    ]);
    expect(reduceTool(IDLE, { kind: 'escape', selectedId: null }, grid).effects).toEqual([]);
  });

  it('a tool change forgets the merge candidate', () => {
    const first = run([down('merge', 0, 0), up('merge', 0, 0)]).state;
    expect(reduceTool(first, { kind: 'tool', tool: 'select' }, grid).state.mergeFirst).toBeNull();
  });

  it('a pinch turns a stroke into a pan that never clicks or edits', () => {
    const r = run([
      down('brush', 0, 0),
      { kind: 'pinch', sx: 50, sy: 50, ox: 1, oy: 2 },
      { kind: 'release' },
      up('brush', 0, 0),
    ]);
    expect(r.effects).toEqual([]);
    expect(r.state).toEqual(IDLE);
  });
});
