/**
 * `fetch` with the two limits every outbound request here needs: a deadline covering headers and
 * body, and a body size cap enforced while streaming (a Content-Length can lie or be absent).
 * Resolves to a result value; never rejects.
 */

export interface CappedFetchOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  /** Aborts the request early (the owner is stopping). */
  signal?: AbortSignal;
}

export interface FetchedResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

export type FetchFailure =
  | { kind: 'timeout'; message: string }
  | { kind: 'network'; message: string }
  | { kind: 'too-large'; message: string }
  | { kind: 'aborted'; message: string };

export type CappedFetchResult = { ok: true; response: FetchedResponse } | { ok: false; failure: FetchFailure };

export async function cappedFetch(url: string, options: CappedFetchOptions): Promise<CappedFetchResult> {
  // One controller per request rather than AbortSignal.any([deadline, options.signal]): on Node 20
  // `any` retains every combined signal on a long-lived parent (nodejs/node#55351).
  const controller = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  deadline.unref();
  const onOwnerAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onOwnerAbort, { once: true });
  const tooLarge = (): CappedFetchResult => ({ ok: false, failure: { kind: 'too-large', message: `response larger than ${options.maxBytes} bytes` } });
  try {
    if (options.signal?.aborted) return { ok: false, failure: { kind: 'aborted', message: 'request aborted' } };
    const res = await fetch(url, { headers: options.headers, signal: controller.signal, redirect: 'follow' });
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > options.maxBytes) {
      res.body?.cancel().catch(() => {});
      return tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > options.maxBytes) {
          reader.cancel().catch(() => {});
          return tooLarge();
        }
        chunks.push(value);
      }
    }
    return { ok: true, response: { status: res.status, headers: res.headers, body: Buffer.concat(chunks) } };
  } catch (err) {
    if (timedOut) return { ok: false, failure: { kind: 'timeout', message: `no complete response within ${options.timeoutMs} ms` } };
    if (options.signal?.aborted) return { ok: false, failure: { kind: 'aborted', message: 'request aborted' } };
    return { ok: false, failure: { kind: 'network', message: describeFetchError(err) } };
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onOwnerAbort);
  }
}

/** undici hides the useful part ("ECONNREFUSED 127.0.0.1:9") in `cause`. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
