/**
 * Reads one feed's bytes from a file path, a file: URL or an http(s) URL, skipping the download
 * or the read when the source says nothing changed (ETag / Last-Modified for HTTP, size and mtime
 * for files). Resolves to a result value; never rejects.
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cappedFetch } from './capped-fetch.js';

/** What identifies the version last loaded, to ask "has it changed?" next time. */
export interface FeedValidators {
  etag?: string;
  lastModified?: string;
  mtimeMs?: number;
  sizeBytes?: number;
}

export type FeedLoad =
  | { kind: 'changed'; body: Buffer; validators: FeedValidators }
  | { kind: 'unchanged' }
  | { kind: 'failed'; message: string };

export interface FeedLoadOptions {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

export function isHttpSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** The source as it may appear in logs: no credentials, no query string (feeds put API keys there). */
export function redactSource(source: string): string {
  if (!isHttpSource(source)) return source;
  try {
    const url = new URL(source);
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '(unparseable URL)';
  }
}

export async function loadFeedSource(source: string, previous: FeedValidators | undefined, options: FeedLoadOptions): Promise<FeedLoad> {
  return isHttpSource(source) ? loadHttp(source, previous, options) : loadFile(source, previous, options);
}

async function loadFile(source: string, previous: FeedValidators | undefined, options: FeedLoadOptions): Promise<FeedLoad> {
  try {
    const path = source.startsWith('file:') ? fileURLToPath(source) : source;
    const info = await stat(path);
    if (!info.isFile()) return { kind: 'failed', message: `${path} is not a regular file` };
    if (info.size > options.maxBytes) return { kind: 'failed', message: `${path} is larger than ${options.maxBytes} bytes` };
    if (previous && previous.mtimeMs === info.mtimeMs && previous.sizeBytes === info.size) return { kind: 'unchanged' };
    const body = await readFile(path, options.signal ? { signal: options.signal } : {});
    if (body.length > options.maxBytes) return { kind: 'failed', message: `${path} is larger than ${options.maxBytes} bytes` };
    return { kind: 'changed', body, validators: { mtimeMs: info.mtimeMs, sizeBytes: info.size } };
  } catch (err) {
    return { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}

async function loadHttp(source: string, previous: FeedValidators | undefined, options: FeedLoadOptions): Promise<FeedLoad> {
  const headers: Record<string, string> = { 'user-agent': 'nta-collector threat-feeds' };
  if (previous?.etag) headers['if-none-match'] = previous.etag;
  if (previous?.lastModified) headers['if-modified-since'] = previous.lastModified;
  const result = await cappedFetch(source, { headers, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, signal: options.signal });
  if (!result.ok) return { kind: 'failed', message: result.failure.message };
  const { status, headers: responseHeaders, body } = result.response;
  if (status === 304) return { kind: 'unchanged' };
  if (status < 200 || status > 299) return { kind: 'failed', message: `HTTP ${status}` };
  const validators: FeedValidators = {};
  const etag = responseHeaders.get('etag');
  const lastModified = responseHeaders.get('last-modified');
  if (etag) validators.etag = etag;
  if (lastModified) validators.lastModified = lastModified;
  return { kind: 'changed', body, validators };
}
