/**
 * One signal aborted by whichever of several aborts first, with that one's reason.
 * AbortSignal.any does this from Node 20.3 only; faasctl supports every Node 20.
 */
export function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
