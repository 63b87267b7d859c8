export { parseDns } from './dns.js';
export type { DnsHint } from './dns.js';
export { parseHttpRequest } from './http.js';
export type { HttpHint } from './http.js';
export { parseTlsClientHello } from './tls.js';
export type { TlsHint } from './tls.js';
