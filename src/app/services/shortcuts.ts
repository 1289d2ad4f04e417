/**
 * The app shell's keyboard shortcuts (the view components handle tools, zoom and overlay keys themselves,
 * see components/view/tools.ts). Ignored while typing in a field.
 */
import { isTypingTarget } from '../components/view/tools';

export const APP_SHORTCUTS: readonly { keys: string; action: string }[] = [
  { keys: 'Ctrl+O', action: 'Open images' },
  { keys: 'Ctrl+Z', action: 'Undo edit' },
  { keys: 'Ctrl+Shift+Z / Ctrl+Y', action: 'Redo edit' },
  { keys: 'n / p', action: 'Next / previous image' },
  { keys: 'Ctrl+Shift+E', action: 'Export particles.csv' },
  { keys: '?', action: 'This help' },
];

export interface ShortcutActions {
  open(): void;
  undo(): void;
  redo(): void;
  next(step: 1 | -1): void;
  exportCsv(): void;
  help(): void;
}

export function handleShortcut(e: KeyboardEvent, a: ShortcutActions): void {
  if (isTypingTarget(e.target)) return;
  const mod = e.ctrlKey || e.metaKey;
  const k = e.key.toLowerCase();
  let done = true;
  if (mod && k === 'o') a.open();
  else if (mod && k === 'z' && !e.shiftKey) a.undo();
  else if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) a.redo();
  else if (mod && e.shiftKey && k === 'e') a.exportCsv();
  else if (!mod && !e.altKey && k === 'n') a.next(1);
  else if (!mod && !e.altKey && k === 'p') a.next(-1);
  else if (!mod && e.key === '?') a.help();
  else done = false;
  if (done) e.preventDefault();
}
