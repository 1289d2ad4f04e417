/**
 * Service-worker registration with an update prompt: a new deployment waits until the user chooses to
 * reload, so a running analysis or unsaved edits are never cut off.
 */
import { registerSW } from 'virtual:pwa-register';

export const pwa = $state({ needRefresh: false, offlineReady: false });

let update: ((reload?: boolean) => Promise<void>) | null = null;

export function startPwa(): void {
  if (!('serviceWorker' in navigator)) return;
  update = registerSW({
    immediate: true,
    onNeedRefresh: () => (pwa.needRefresh = true),
    onOfflineReady: () => (pwa.offlineReady = true),
  });
}

export function applyUpdate(): void {
  void update?.(true);
}

export function dismissUpdate(): void {
  pwa.needRefresh = false;
}
