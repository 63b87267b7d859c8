#!/usr/bin/env node
// Writes the benchmark captures (classic pcap, little-endian, microseconds, Ethernet):
//   mixed       realistic mixed traffic, 4,000,000 packets by default
//   concurrent  1,000,000 flows all live at once, two packets each
// Deterministic: the same version, seed and size give the same bytes. A capture is
// regenerated only when missing or when its .meta.json differs (bump GENERATOR_VERSION
// whenever the bytes this script writes change).
//
//   node bench/agent/gen-pcap.mjs mixed|concurrent [--packets N] [--flows N] [--seed N] [--out DIR] [--force]
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runConcurrent } from './lib/concurrent.mjs';
import { Mixed } from './lib/mixed.mjs';
import { PcapWriter } from './lib/pcap-writer.mjs';
import { Rng } from './lib/rng.mjs';
import { World } from './lib/world.mjs';

export const GENERATOR_VERSION = 3;
export const DEFAULT_SEED = 20261102;
export const DEFAULT_MIXED_PACKETS = 4_000_000;
export const DEFAULT_CONCURRENT_FLOWS = 1_000_000;
export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../var/bench');

/**
 * What to generate; `size` is packets for mixed, flows for concurrent.
 * @typedef {{ kind: 'mixed' | 'concurrent', size: number, seed: number, dir: string }} CaptureSpec
 */

/** @param {Partial<CaptureSpec> & { kind: CaptureSpec['kind'] }} spec @returns {CaptureSpec} */
export function captureSpec(spec) {
  const size = spec.size ?? (spec.kind === 'mixed' ? DEFAULT_MIXED_PACKETS : DEFAULT_CONCURRENT_FLOWS);
  return { kind: spec.kind, size, seed: spec.seed ?? DEFAULT_SEED, dir: spec.dir ?? BENCH_DIR };
}

/** @param {CaptureSpec} spec */
export function capturePath(spec) {
  const isDefault = spec.size === (spec.kind === 'mixed' ? DEFAULT_MIXED_PACKETS : DEFAULT_CONCURRENT_FLOWS) && spec.seed === DEFAULT_SEED;
  return join(spec.dir, isDefault ? `${spec.kind}.pcap` : `${spec.kind}-${spec.size}-s${spec.seed}.pcap`);
}

/** The .meta.json of an up-to-date capture, or null when it must be (re)generated. */
export function currentMeta(spec) {
  const path = capturePath(spec);
  try {
    const meta = JSON.parse(readFileSync(`${path}.meta.json`, 'utf8'));
    const fresh =
      meta.generatorVersion === GENERATOR_VERSION &&
      meta.kind === spec.kind &&
      meta.size === spec.size &&
      meta.seed === spec.seed &&
      statSync(path).size === meta.fileBytes;
    return fresh ? meta : null;
  } catch {
    return null;
  }
}

/** Generates the capture (unconditionally) and returns its metadata. */
export function generate(spec) {
  const path = capturePath(spec);
  mkdirSync(spec.dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const t0 = process.hrtime.bigint();
  const rng = new Rng(spec.seed);
  const w = new PcapWriter(tmp, rng);
  /** @type {Record<string, unknown>} */
  let counts;
  if (spec.kind === 'mixed') {
    const mixed = new Mixed(w, rng, new World(spec.seed));
    mixed.run(spec.size, (n) => process.stderr.write(`      ${(n / 1e6).toFixed(0)} M packets...\n`));
    counts = mixed.count;
  } else {
    runConcurrent(w, spec.size);
    counts = { flows: spec.size, packetsPerFlow: 2 };
  }
  w.close();
  renameSync(tmp, path);
  const generatedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const meta = {
    generatorVersion: GENERATOR_VERSION,
    kind: spec.kind,
    size: spec.size,
    seed: spec.seed,
    packets: w.packets,
    fileBytes: w.bytes,
    meanFrameBytes: Math.round((w.bytes - 24) / w.packets - 16),
    firstPacketS: w.firstUs / 1e6,
    captureS: (w.lastUs - w.firstUs) / 1e6,
    frames: w.stats,
    counts,
    generatedS: Math.round(generatedS * 100) / 100,
  };
  writeFileSync(`${path}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/** One line describing a capture for people. */
export function describeCapture(path, meta) {
  const gb = (meta.fileBytes / 1e9).toFixed(2);
  const v6 = ((100 * meta.frames.ipv6) / meta.packets).toFixed(1);
  const vlan = ((100 * meta.frames.vlan) / meta.packets).toFixed(1);
  return `${path}: ${meta.packets.toLocaleString('en-US')} packets, ${gb} GB (mean frame ${meta.meanFrameBytes} B), ${meta.captureS.toFixed(1)} s of capture time, IPv6 ${v6}%, 802.1Q ${vlan}%`;
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      packets: { type: 'string' },
      flows: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const kind = positionals[0];
  if (kind !== 'mixed' && kind !== 'concurrent') {
    process.stderr.write('usage: gen-pcap.mjs mixed|concurrent [--packets N] [--flows N] [--seed N] [--out DIR] [--force]\n');
    process.exit(2);
  }
  const sizeArg = kind === 'mixed' ? values.packets : values.flows;
  const spec = captureSpec({
    kind,
    size: sizeArg === undefined ? undefined : Number(sizeArg),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    dir: values.out === undefined ? undefined : resolve(values.out),
  });
  const path = capturePath(spec);
  const existing = values.force ? null : currentMeta(spec);
  if (existing) {
    console.log(`up to date (generator v${GENERATOR_VERSION}): ${describeCapture(path, existing)}`);
    return;
  }
  const why = existsSync(path) ? 'stale (generator, seed or size changed)' : 'missing';
  console.log(`generating ${path} (${values.force ? 'forced' : why})...`);
  const meta = generate(spec);
  console.log(`generated in ${meta.generatedS.toFixed(1)} s (${Math.round(meta.packets / meta.generatedS / 1000)} k packets/s): ${describeCapture(path, meta)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
