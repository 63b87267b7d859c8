/**
 * tshark as an independent oracle for the agent's flow table: runs `tshark -z conv,tcp
 * -z conv,udp` on a capture and parses its conversation tables, and `capinfos` to learn
 * a capture's link type. Conversations are compared per unordered 5-tuple (two
 * address:port endpoints and the protocol), with frames counted per sending endpoint.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export type ConversationProto = 'tcp' | 'udp';

/** Frames of one unordered 5-tuple: the total and per sending endpoint (`addr:port`, `[v6]:port`). */
export interface ConversationCount {
  key: string;
  proto: ConversationProto;
  frames: number;
  framesFrom: Map<string, number>;
}

export type ConversationTable = Map<string, ConversationCount>;

export const TSHARK_INSTALL_HINT =
  'tshark is required for the tshark parity tests: `npm test` (scripts/setup.sh --test) installs it, ' +
  'or install it yourself (Debian/Ubuntu: `apt-get install tshark`, macOS: `brew install wireshark`).';

/** Throws with install instructions unless both tshark and capinfos run. */
export function requireTshark(): string {
  try {
    const out = execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync('capinfos', ['-h'], { stdio: 'ignore' });
    return out.split('\n')[0];
  } catch (err) {
    throw new Error(TSHARK_INSTALL_HINT, { cause: err });
  }
}

/**
 * An empty preferences directory, so the user's Wireshark profile cannot change the
 * results. One fixed path, shared by every run: tshark only reads it.
 */
const EMPTY_CONFIG_DIR = join(tmpdir(), 'nta-tshark-empty-profile');
function tsharkEnv(): NodeJS.ProcessEnv {
  mkdirSync(EMPTY_CONFIG_DIR, { recursive: true });
  return { ...process.env, WIRESHARK_CONFIG_DIR: EMPTY_CONFIG_DIR, LC_ALL: 'C' };
}

/**
 * Wireshark's short encapsulation name (`ether`, `linux-sll`, `rawip`, …) for each file
 * capinfos can read, from a single capinfos process. Unreadable files are left out.
 */
export function captureEncapsulations(files: readonly string[]): Map<string, string> {
  let out: string;
  try {
    out = execFileSync('capinfos', ['-T', '-E', '-m', '-r', ...files], {
      encoding: 'utf8',
      env: tsharkEnv(),
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    // capinfos exits non-zero when any file is unreadable but still reports the others.
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  const byName = new Map(files.map((f) => [basename(f), f]));
  const result = new Map<string, string>();
  for (const line of out.split('\n')) {
    const comma = line.lastIndexOf(',');
    if (comma < 0) continue;
    const file = byName.get(basename(line.slice(0, comma))) ?? line.slice(0, comma);
    result.set(file, line.slice(comma + 1).trim());
  }
  return result;
}

/** Canonical text of an address: IPv6 compressed as RFC 5952 (via the URL serializer), IPv4 as is. */
export function normalizeAddress(addr: string): string {
  if (!addr.includes(':')) return addr;
  return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
}

export function endpointText(addr: string, port: number): string {
  const a = normalizeAddress(addr);
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/** Splits `addr:port` at the last colon (IPv6 addresses contain colons). */
export function splitEndpoint(text: string): { addr: string; port: number } {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) throw new Error(`not an address:port endpoint: ${JSON.stringify(text)}`);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in endpoint ${JSON.stringify(text)}`);
  return { addr: text.slice(0, colon), port };
}

/** Adds `frames` sent by endpoint `from` to endpoint `to` into the table. */
export function addConversation(
  table: ConversationTable,
  proto: ConversationProto,
  from: string,
  to: string,
  framesFromTo: number,
  framesToFrom: number,
): void {
  const [lo, hi] = from < to ? [from, to] : [to, from];
  const key = `${proto} ${lo} ${hi}`;
  let entry = table.get(key);
  if (entry === undefined) {
    entry = { key, proto, frames: 0, framesFrom: new Map([[lo, 0], [hi, 0]]) };
    table.set(key, entry);
  }
  entry.frames += framesFromTo + framesToFrom;
  entry.framesFrom.set(from, (entry.framesFrom.get(from) ?? 0) + framesFromTo);
  entry.framesFrom.set(to, (entry.framesFrom.get(to) ?? 0) + framesToFrom);
}

// One row: `A:port <-> B:port   <-frames <-bytes unit   ->frames ->bytes unit   frames bytes unit   start   duration`.
const BYTES = String.raw`[\d,.]+\s*[A-Za-z]*`;
const ROW = new RegExp(String.raw`^\s*(\S+)\s+<->\s+(\S+)\s+(\d+)\s+${BYTES}\s+(\d+)\s+${BYTES}\s+(\d+)\s+${BYTES}\s+\S+\s+\S+\s*$`);

/**
 * Parses the text of `tshark -q -z conv,tcp -z conv,udp`, summing rows of the same
 * 5-tuple (tshark splits a TCP 5-tuple into one row per stream when ports are reused).
 * In a row, `<-` counts frames from B to A and `->` frames from A to B.
 */
export function parseConversationTables(text: string): ConversationTable {
  const table: ConversationTable = new Map();
  let proto: ConversationProto | undefined;
  let sections = 0;
  for (const line of text.split('\n')) {
    const header = /^(TCP|UDP) Conversations\s*$/.exec(line);
    if (header !== null) {
      proto = header[1] === 'TCP' ? 'tcp' : 'udp';
      sections++;
      continue;
    }
    if (!line.includes('<->')) continue;
    const m = ROW.exec(line);
    if (m === null || proto === undefined) throw new Error(`unparsable tshark conversation row: ${JSON.stringify(line)}`);
    const a = splitEndpoint(m[1]);
    const b = splitEndpoint(m[2]);
    const bToA = Number(m[3]);
    const aToB = Number(m[4]);
    const total = Number(m[5]);
    if (aToB + bToA !== total) throw new Error(`tshark row frames do not add up: ${JSON.stringify(line)}`);
    addConversation(table, proto, endpointText(a.addr, a.port), endpointText(b.addr, b.port), aToB, bToA);
  }
  if (sections !== 2) throw new Error(`expected TCP and UDP conversation tables from tshark, found ${sections}:\n${text}`);
  return table;
}

/** Runs tshark on one capture and returns its TCP and UDP conversations. */
export function tsharkConversations(file: string): Promise<ConversationTable> {
  return new Promise((resolve, reject) => {
    execFile(
      'tshark',
      ['-n', '-r', file, '-q', '-z', 'conv,tcp', '-z', 'conv,udp'],
      { encoding: 'utf8', env: tsharkEnv(), maxBuffer: 64 << 20, timeout: 60_000 },
      (err, stdout, stderr) => {
        // tshark exits non-zero on a truncated capture but still prints its tables.
        try {
          resolve(parseConversationTables(stdout));
        } catch (parseErr) {
          reject(new Error(`tshark on ${file} failed: ${err?.message ?? ''} ${stderr}`, { cause: parseErr }));
        }
      },
    );
  });
}

/**
 * A concurrency limit: `run(fn)` starts `fn` once fewer than `limit` runs are in flight,
 * in the order of the calls, and returns its promise.
 */
export function createLimiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return <R>(fn: () => Promise<R>): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const start = (): void => {
        running++;
        fn().then(resolve, reject).finally(release);
      };
      if (running < limit) start();
      else waiting.push(start);
    });
}

/**
 * The differences between the agent's conversations and tshark's, one line each, sorted:
 * a conversation only one side has, different total frames, or (totals equal) different
 * frames sent by one endpoint.
 */
export function diffConversations(agent: ConversationTable, tshark: ConversationTable): string[] {
  const diffs: string[] = [];
  for (const [key, t] of tshark) {
    const a = agent.get(key);
    if (a === undefined) {
      diffs.push(`${key}: only tshark (${t.frames} frames)`);
    } else if (a.frames !== t.frames) {
      diffs.push(`${key}: agent ${a.frames} frames, tshark ${t.frames}`);
    } else {
      for (const [endpoint, n] of t.framesFrom) {
        const m = a.framesFrom.get(endpoint) ?? 0;
        if (m !== n) diffs.push(`${key}: from ${endpoint} agent ${m} frames, tshark ${n}`);
      }
    }
  }
  for (const [key, a] of agent) if (!tshark.has(key)) diffs.push(`${key}: only agent (${a.frames} frames)`);
  return diffs.sort();
}
