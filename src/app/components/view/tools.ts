/**
 * Tool, overlay and shortcut definitions shared by EditTools, ImageView and the app shell (which can
 * list SHORTCUTS in its help dialog).
 */
// Names match src/app/state/ui.svelte.ts so app state passes straight through.
export type Tool = 'select' | 'brush' | 'erase' | 'delete' | 'merge' | 'split' | 'calibrate';
/** 'hidden' hides the overlay; the others are how particles are drawn. */
export type OverlayMode = 'outline' | 'filled' | 'label' | 'hidden';
export type DrawMode = Exclude<OverlayMode, 'hidden'>;

export interface ToolInfo {
  id: Tool;
  label: string;
  key: string;
  hint: string;
}

export const TOOLS: readonly ToolInfo[] = [
  { id: 'select', label: 'Select', key: 'v', hint: 'Click a particle to select it; drag to pan' },
  {
    id: 'brush',
    label: 'Brush',
    key: 'b',
    hint: 'Drag to add area: extends the particle you start on, else a new one',
  },
  { id: 'erase', label: 'Eraser', key: 'e', hint: 'Drag to remove particle area' },
  { id: 'delete', label: 'Delete', key: 'd', hint: 'Click a particle to delete it' },
  { id: 'merge', label: 'Merge', key: 'm', hint: 'Click two particles to merge them' },
  { id: 'split', label: 'Split', key: 's', hint: 'Drag a line across a particle to cut it in two' },
  {
    id: 'calibrate',
    label: 'Measure line',
    key: 'l',
    hint: 'Drag a line to measure a length, e.g. along a scale bar to calibrate',
  },
];

export const OVERLAY_MODES: readonly { id: OverlayMode; label: string }[] = [
  { id: 'outline', label: 'Outline' },
  { id: 'filled', label: 'Filled' },
  { id: 'label', label: 'Label colours' },
  { id: 'hidden', label: 'Hidden' },
];

/** Every keyboard shortcut the view components handle (Ctrl+Z / Ctrl+Shift+Z are the app shell's). */
export const SHORTCUTS: readonly { keys: string; action: string }[] = [
  ...TOOLS.map((t) => ({ keys: t.key, action: `${t.label} tool` })),
  { keys: '[ / ]', action: 'Brush / eraser radius smaller / larger' },
  { keys: 'o', action: 'Show / hide overlay' },
  { keys: '0', action: 'Fit image to view' },
  { keys: '1', action: 'Zoom to 100 %' },
  { keys: '+ / -', action: 'Zoom in / out' },
  { keys: 'arrows', action: 'Pan (image focused)' },
  { keys: 'Space + drag', action: 'Pan with any tool' },
  { keys: 'Delete', action: 'Delete the selected particle' },
  { keys: 'Esc', action: 'Cancel the current merge / line, clear selection' },
];

/** True when a key event belongs to a text field (shortcuts must not fire while typing). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button', 'submit', 'reset', 'color'].includes(type);
  }
  return false;
}
