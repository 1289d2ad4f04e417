/** Cancellation of an analysis: the signal's own reason, or a standard AbortError when it gave none. */
export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('Analysis cancelled', 'AbortError');
}

/** Throws the cancellation when `signal` has been aborted (checked between stages and tiles). */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
