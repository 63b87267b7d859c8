/**
 * The agent CLI against broken input: empty, cut and damaged capture files, a directory, a
 * missing file and bad flags. Each must end with one clear stderr line, a defined exit
 * code, and no stack trace.
 *
 * NTA_FUZZ_SEED=<seed> replays a run exactly (see tests/helpers/fuzz-samples.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as W from '../helpers/pcap-writer.js';
import { Rng, SEED, samplesOf, useFuzzWorkspace } from '../helpers/fuzz-samples.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = process.env.NTA_AGENT_CLI ?? join(REPO, 'packages/agent/dist/cli.js');

const ws = useFuzzWorkspace();

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCli(args: string[], timeoutMs = 15_000): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr, ms: performance.now() - started }));
  });
}

const STACK_FRAME = /^\s+at\s/m;
const USAGE_HINT = "Run 'nta-agent --help' for usage.";

describe('broken files through the CLI', () => {
  // `npm test` builds first; a missing CLI fails here rather than skipping the CLI tests.
  test('cli - the built CLI is there', () => {
    expect(existsSync(CLI), `${CLI} missing: build first (pnpm run build)`).toBe(true);
  });

  test('cli - every broken input ends with one clear stderr line, a defined exit code, and no stack trace', async () => {
    const dir = join(ws.workDir, 'cli');
    mkdirSync(join(dir, 'a-directory'), { recursive: true });
    const rng = new Rng(SEED ^ 0xc11);
    const frames = samplesOf(rng, ws.samples, 1, 4);
    const write = (name: string, bytes: Uint8Array): string => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const good = W.pcapFile({ linkType: 1 }, frames.map((data) => ({ data })));
    const deepSnap = Buffer.concat([Buffer.from('0200000000020200000000010040', 'hex'), Buffer.alloc(12 * 10_000, Buffer.from('aaaa03000000810000010040', 'hex'))]);
    const huge = Buffer.concat([W.pcapngShb(), W.pcapngIdb({ linkType: 1 }), W.pcapngEpb({ data: frames[0], timestamp: 0xffffffffffffffffn })]);
    type Expect = { args: string[]; name: string; code: number; line: RegExp; json?: Record<string, unknown> };
    const cases: Expect[] = [
      { name: 'empty file', args: ['read', write('empty.pcap', new Uint8Array(0)), '--format', 'none'], code: 1, line: /^nta-agent: error: .*empty file/ },
      { name: '3-byte file', args: ['read', write('three.pcap', Buffer.from('abc')), '--format', 'none'], code: 1, line: /^nta-agent: error: .*only 3 bytes/ },
      { name: 'bad magic', args: ['read', write('text.pcap', Buffer.from('this is not a capture file\n')), '--format', 'none'], code: 1, line: /^nta-agent: error: .*not a pcap or pcapng capture/ },
      { name: 'pcap cut mid-record', args: ['read', write('cut.pcap', good.subarray(0, good.length - 10)), '--format', 'none'], code: 1, line: /^\{/, json: { packets: 3, format: 'pcap' } },
      { name: 'absurd capture length', args: ['read', write('caplen.pcap', W.pcapFile({ linkType: 1 }, [{ data: frames[0] }, { data: frames[1], capLenField: 0xfffffff0 }])), '--format', 'none'], code: 1, line: /^\{/, json: { packets: 1 } },
      { name: 'pcapng broken block', args: ['read', write('broken.pcapng', Buffer.concat([W.pcapngShb(), W.pcapngIdb({ linkType: 1 }), W.pcapngEpb({ data: frames[0] }), W.pcapngEpb({ data: frames[1], trailerField: 4 })])), '--format', 'none'], code: 1, line: /^\{/, json: { packets: 1, format: 'pcapng' } },
      { name: 'a directory', args: ['read', join(dir, 'a-directory'), '--format', 'none'], code: 1, line: /^nta-agent: error: .*is a directory/ },
      { name: 'a missing file', args: ['read', join(dir, 'no-such-file.pcap'), '--format', 'none'], code: 1, line: /^nta-agent: error: .*no such file/ },
      { name: 'a bad flag', args: ['read', join(dir, 'empty.pcap'), '--bogus'], code: 2, line: /^nta-agent: read: .*--bogus/ },
      { name: 'a bad flag value', args: ['read', join(dir, 'empty.pcap'), '--max-flows', 'lots'], code: 2, line: /^nta-agent: .*--max-flows/ },
      { name: 'a good file', args: ['read', write('good.pcap', good), '--format', 'none'], code: 0, line: /^\{/, json: { packets: 4 } },
      { name: 'nested LLC/SNAP + 802.1Q frame', args: ['read', write('deep.pcap', W.pcapFile({ linkType: 1 }, [{ data: deepSnap }])), '--format', 'none'], code: 0, line: /^\{/, json: { packets: 1 } },
      { name: 'timestamp past year 275760, ndjson output', args: ['read', write('far-future.pcapng', huge), '--format', 'ndjson'], code: 0, line: /^\{/, json: { packets: 1 } },
    ];
    const runs = await Promise.all(cases.map((c) => runCli(c.args)));
    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const r = runs[i];
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      const own = lines.filter((l) => l !== USAGE_HINT);
      const why: string[] = [];
      if (r.signal !== null) why.push(`killed by ${r.signal} after ${Math.round(r.ms)} ms`);
      if (r.code !== c.code) why.push(`exit code ${r.code}, expected ${c.code}`);
      if (STACK_FRAME.test(r.stderr)) why.push('stack trace on stderr');
      if (own.length !== 1) why.push(`${own.length} stderr lines`);
      if (own[0] !== undefined && !c.line.test(own[0])) why.push(`stderr line does not match ${c.line}`);
      if (c.json !== undefined && own.length === 1 && own[0].startsWith('{')) {
        const summary = JSON.parse(own[0]) as Record<string, unknown>;
        for (const [k, v] of Object.entries(c.json)) if (summary[k] !== v) why.push(`summary ${k} = ${JSON.stringify(summary[k])}, expected ${JSON.stringify(v)}`);
        if ((c.code === 0) !== (summary.error === undefined)) why.push(`summary error ${JSON.stringify(summary.error)} with exit code ${r.code}`);
      }
      if (c.args.includes('none') && r.stdout !== '') why.push('stdout not empty with --format none');
      if (why.length > 0) problems.push(`${c.name}: ${why.join('; ')}\n    stderr: ${r.stderr.slice(0, 400).replace(/\n/g, '\n            ')}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
