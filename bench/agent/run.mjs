#!/usr/bin/env node
// Agent benchmark: the agent against tcpdump and tshark on the same synthetic capture,
// each as a child process, with wall time and peak RSS. See bench/README.md.
//
//   node bench/agent/run.mjs [--runs N] [--packets N] [--flows N]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_DIR, captureSpec, capturePath, currentMeta, describeCapture } from './gen-pcap.mjs';
import { measure } from './lib/measure.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');
const TSHARK_PACKETS = 1_000_000;
const TARGET = { vsTshark: 30, vsTcpdump: 0.5, concurrentRssMiB: 200 };

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '2' }, packets: { type: 'string' }, flows: { type: 'string' } },
});
const runs = Math.max(1, Number(opts.runs));
const rel = (p) => relative(ROOT, p) || p;
const say = (s = '') => process.stdout.write(`${s}\n`);
let failed = false;

// --- captures ----------------------------------------------------------------------------
const mixedSpec = captureSpec({ kind: 'mixed', size: opts.packets ? Number(opts.packets) : undefined });
const concurrentSpec = captureSpec({ kind: 'concurrent', size: opts.flows ? Number(opts.flows) : undefined });

/** Generates a capture if missing or stale (the generator decides), and returns its meta. */
function ensureCapture(spec, flag) {
  const args = [join(ROOT, 'bench/agent/gen-pcap.mjs'), spec.kind, `--${flag}`, String(spec.size)];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  const meta = currentMeta(spec);
  if (r.status !== 0 || !meta) throw new Error(`generating ${spec.kind} failed (exit ${r.status})`);
  return meta;
}

/** The first `n` packets of `src` (editcap, kept as classic pcap), cached beside it while `src` is unchanged. */
function ensurePrefix(src, srcMeta, n) {
  const dst = src.replace(/\.pcap$/, `-first-${n}.pcap`);
  const want = { format: 'pcap', source: rel(src), sourceFileBytes: srcMeta.fileBytes, sourceGeneratorVersion: srcMeta.generatorVersion, sourceSeed: srcMeta.seed, packets: n };
  try {
    const have = JSON.parse(readFileSync(`${dst}.meta.json`, 'utf8'));
    if (JSON.stringify(have) === JSON.stringify(want) && existsSync(dst)) return dst;
  } catch {
    // no meta: make it
  }
  const t0 = Date.now();
  const r = spawnSync('editcap', ['-F', 'pcap', '-r', src, dst, `1-${n}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`editcap failed (exit ${r.status})`);
  writeFileSync(`${dst}.meta.json`, `${JSON.stringify(want, null, 2)}\n`);
  say(`made ${rel(dst)} (first ${n.toLocaleString('en-US')} packets, editcap, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return dst;
}

/** Reads a file once so that every tool finds it in the page cache. */
function warm(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(16 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim()) ?? '';
}

// --- measuring ---------------------------------------------------------------------------

/** The agent's one-line JSON summary on stderr (the last JSON line carrying `packets`). */
function agentSummary(stderr) {
  for (const line of stderr.split('\n').reverse()) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const o = JSON.parse(t);
      if (typeof o.packets === 'number') return o;
    } catch {
      // not JSON: a log line
    }
  }
  return null;
}

/**
 * Runs a command `n` times; the fastest successful run gives the time, the largest peak
 * RSS of all runs gives the memory figure.
 */
async function bench(name, file, packets, cmd, args, n, countLines = undefined) {
  /** @type {import('./lib/measure.mjs').Measurement[]} */
  const all = [];
  for (let i = 0; i < n; i++) {
    process.stdout.write(`  ${name} on ${rel(file)}${n > 1 ? ` (run ${i + 1}/${n})` : ''}... `);
    const m = await measure(cmd, args, { cwd: ROOT, countLines });
    all.push(m);
    const ok = m.exitCode === 0;
    say(ok ? `${m.wallS.toFixed(2)} s, ${m.peakRssMiB.toFixed(0)} MiB` : `FAILED (${m.spawnError ?? `exit ${m.exitCode ?? m.signal}`})`);
    if (!ok) {
      say(`    $ ${m.command}`);
      for (const l of m.stderrTail.trim().split('\n').slice(-15)) say(`    | ${l}`);
      failed = true;
      break;
    }
  }
  const good = all.filter((m) => m.exitCode === 0);
  const best = good.length ? good.reduce((a, b) => (b.wallS < a.wallS ? b : a)) : null;
  return {
    name,
    file: rel(file),
    command: all[0].command,
    ok: good.length === all.length && best !== null,
    runs: all.map((m) => ({ wallS: round(m.wallS, 3), peakRssMiB: round(m.peakRssMiB, 1), exitCode: m.exitCode })),
    packets,
    wallS: best ? round(best.wallS, 3) : null,
    packetsPerS: best ? Math.round(packets / best.wallS) : null,
    peakRssMiB: good.length ? round(Math.max(...good.map((m) => m.peakRssMiB)), 1) : null,
    best,
  };
}

const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;
const fmtRate = (x) => (x === null ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${Math.round(x / 1e3)} k`);
const fmtInt = (x) => (x === null || x === undefined ? '-' : x.toLocaleString('en-US'));

// --- main --------------------------------------------------------------------------------
const startedAt = new Date();
const load = loadavg()[0];
const versions = { node: process.version, tcpdump: firstLine('tcpdump', ['--version']), tshark: firstLine('tshark', ['--version']) };
for (const tool of ['tcpdump', 'tshark']) if (!versions[tool]) throw new Error(`${tool} is not installed: run bash scripts/setup.sh --test`);
say(`NTA agent benchmark, ${startedAt.toISOString()}`);
say(`  ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${versions.node}, ${versions.tcpdump}, ${versions.tshark}`);
if (load > 0.7) say(`  warning: the machine is busy (1-minute load average ${load.toFixed(2)}): figures will be low and noisy`);
say();
say('captures');
mkdirSync(BENCH_DIR, { recursive: true });
const mixedMeta = ensureCapture(mixedSpec, 'packets');
const concurrentMeta = ensureCapture(concurrentSpec, 'flows');
const mixedPath = capturePath(mixedSpec);
const concurrentPath = capturePath(concurrentSpec);
const prefixPackets = Math.min(TSHARK_PACKETS, mixedMeta.packets);
const prefixPath = ensurePrefix(mixedPath, mixedMeta, prefixPackets);
for (const p of [mixedPath, concurrentPath, prefixPath]) warm(p);
const agentBuilt = existsSync(AGENT_CLI);
say();
say('runs');
const tcpdump = await bench('tcpdump -r F -w /dev/null', mixedPath, mixedMeta.packets, 'tcpdump', ['-r', mixedPath, '-w', '/dev/null'], runs);
const tshark = await bench('tshark -q -z conv,tcp -r F', prefixPath, prefixPackets, 'tshark', ['-q', '-z', 'conv,tcp', '-r', prefixPath], 1, '<->');
const tsharkConversations = tshark.best ? tshark.best.stdoutMatches : null;
let agent = null;
let agentConcurrent = null;
if (agentBuilt) {
  // Run the CLI as an installed `nta-agent` runs: as an executable, whose shebang carries its node flags.
  const agentArgs = (f) => ['read', f, '--format', 'none'];
  agent = await bench('agent read F --format none', mixedPath, mixedMeta.packets, AGENT_CLI, agentArgs(mixedPath), runs);
  agentConcurrent = await bench('agent read F --format none', concurrentPath, concurrentMeta.packets, AGENT_CLI, agentArgs(concurrentPath), runs);
} else {
  say(`  agent: NOT BUILT (${rel(AGENT_CLI)} is missing): run pnpm build; only the reference tools ran`);
  failed = true;
}

// --- report ------------------------------------------------------------------------------
const rows = [agent, tcpdump, tshark, agentConcurrent].filter((r) => r !== null);
const summaries = new Map(rows.filter((r) => r.best && r.name.startsWith('agent')).map((r) => [r, agentSummary(r.best.stderrTail)]));
const note = (r) => {
  const parts = [r.runs.length > 1 ? `best of ${r.runs.length}: ${r.runs.map((x) => x.wallS.toFixed(2)).join(', ')} s` : 'one run'];
  const s = summaries.get(r);
  if (s) {
    parts.push(`agent says ${fmtInt(s.packets)} packets, ${fmtInt(s.flows)} flows, ${fmtRate(s.packetsPerS)} packets/s in ${Number(s.elapsedS).toFixed(2)} s`);
    if (typeof s.maxRssBytes === 'number') parts.push(`its own max RSS ${(s.maxRssBytes / 2 ** 20).toFixed(1)} MiB`);
    if (s.packets !== r.packets) parts.push(`PACKET COUNT MISMATCH: file has ${fmtInt(r.packets)}`);
  } else if (r.name.startsWith('agent') && r.best) parts.push('no JSON summary on stderr');
  if (r === tshark && tsharkConversations !== null) parts.push(`${fmtInt(tsharkConversations)} TCP conversations`);
  return parts.join('; ');
};
const header = ['tool', 'file', 'packets', 'wall s', 'packets/s', 'peak RSS MiB', 'notes'];
const table = [
  header,
  ...rows.map((r) => [r.name, r.file, fmtInt(r.packets), r.wallS?.toFixed(2) ?? 'failed', fmtRate(r.packetsPerS), r.peakRssMiB?.toFixed(1) ?? '-', note(r)]),
];
if (!agentBuilt) table.push(['agent read F --format none', '-', '-', 'not built', '-', '-', `${rel(AGENT_CLI)} missing`]);
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
say();
say('results (packets/s = packets in the file / wall time of the whole process, start-up included)');
for (const row of table) say(`  ${row.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()}`);

const targets = [];
const target = (name, value, want, pass, fmt) => targets.push({ name, value, target: want, pass, shown: fmt });
const ratio = (a, b) => (a?.packetsPerS && b?.packetsPerS ? a.packetsPerS / b.packetsPerS : null);
const vsTshark = ratio(agent, tshark);
const vsTcpdump = ratio(agent, tcpdump);
const rss = agentConcurrent?.peakRssMiB ?? null;
target('agent packets/s vs tshark conv,tcp', vsTshark, `>= ${TARGET.vsTshark}x`, vsTshark === null ? null : vsTshark >= TARGET.vsTshark, vsTshark === null ? 'n/a' : `${vsTshark.toFixed(1)}x`);
target('agent packets/s vs tcpdump raw read', vsTcpdump, `>= ${TARGET.vsTcpdump} (within 2x)`, vsTcpdump === null ? null : vsTcpdump >= TARGET.vsTcpdump, vsTcpdump === null ? 'n/a' : vsTcpdump.toFixed(2));
target(`agent peak RSS, ${fmtInt(concurrentMeta.counts.flows)} concurrent flows`, rss, `<= ${TARGET.concurrentRssMiB} MiB`, rss === null ? null : rss <= TARGET.concurrentRssMiB, rss === null ? 'n/a' : `${rss.toFixed(0)} MiB`);
say();
say('targets');
const tw = Math.max(...targets.map((t) => t.name.length));
for (const t of targets) say(`  ${t.name.padEnd(tw)}  ${t.shown.padStart(8)}  target ${t.target.padEnd(18)} ${t.pass === null ? (agentBuilt ? 'n/a (a run failed)' : 'n/a (agent not built)') : t.pass ? 'PASS' : 'MISS'}`);

const results = {
  startedAt: startedAt.toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model.trim(), loadAverage1m: round(load, 2), ...versions },
  captures: {
    mixed: { path: rel(mixedPath), ...mixedMeta },
    concurrent: { path: rel(concurrentPath), ...concurrentMeta },
    tsharkPrefix: { path: rel(prefixPath), packets: prefixPackets, fileBytes: statSync(prefixPath).size },
  },
  agentBuilt,
  runs: rows.map(({ best: _best, ...r }) => ({ ...r, ...(summaries.get(r) ? { agentSummary: summaries.get(r) } : {}) })),
  tsharkTcpConversations: tsharkConversations,
  targets: targets.map(({ shown: _s, ...t }) => t),
};
const jsonPath = join(BENCH_DIR, 'agent-results.json');
writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
say();
say(`captures: ${describeCapture(rel(mixedPath), mixedMeta)}`);
say(`          ${describeCapture(rel(concurrentPath), concurrentMeta)}`);
say(`results written to ${rel(jsonPath)}`);
if (failed) {
  say(agentBuilt ? 'some runs FAILED (see above)' : 'INCOMPLETE: the agent is not built, only the reference tools were measured');
  process.exit(1);
}
