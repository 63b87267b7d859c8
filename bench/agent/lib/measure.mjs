// Runs one command as a child process and measures its wall time and peak resident set
// size, without GNU time: /proc/<pid>/status is polled every few milliseconds and the
// largest VmHWM (the kernel's own high-water mark of the RSS) seen is kept.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TAIL_BYTES = 64 * 1024;

/**
 * @typedef {object} Measurement
 * @property {string} command      as typed in a shell, for the report
 * @property {number} wallS
 * @property {number} peakRssMiB   0 if the child ended before the first sample
 * @property {number | null} exitCode
 * @property {string | null} signal
 * @property {number} stdoutBytes
 * @property {string} stdoutTail   last 64 KiB
 * @property {string} stderrTail   last 64 KiB
 * @property {number} stdoutMatches lines of stdout containing `options.countLines`
 * @property {string} [spawnError]
 */

/**
 * @param {string} cmd @param {string[]} args
 * @param {{ cwd?: string, pollMs?: number, countLines?: string }} [options]
 * @returns {Promise<Measurement>}
 */
export function measure(cmd, args, options = {}) {
  const pollMs = options.pollMs ?? 10;
  const command = [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let peakKiB = 0;
    let wallS = 0;
    const statusPath = `/proc/${child.pid}/status`;
    const poll = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(statusPath, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // gone already, or not yet there
      }
    };
    const timer = setInterval(poll, pollMs);
    poll();
    const out = new Tail(options.countLines);
    const err = new Tail();
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    /** @type {string | undefined} */
    let spawnError;
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('exit', () => {
      wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(timer);
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      if (!wallS) wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({
        command,
        wallS,
        peakRssMiB: peakKiB / 1024,
        exitCode: code,
        signal,
        stdoutBytes: out.total,
        stdoutTail: out.text(),
        stdoutMatches: out.matches + (out.pattern && out.partial.includes(out.pattern) ? 1 : 0),
        stderrTail: err.text(),
        ...(spawnError ? { spawnError } : {}),
      });
    });
  });
}

/** Keeps the last TAIL_BYTES of a stream, counts its bytes and the lines holding `pattern`. */
class Tail {
  /** @param {string} [pattern] */
  constructor(pattern) {
    /** @type {Buffer[]} */
    this.chunks = [];
    this.kept = 0;
    this.total = 0;
    this.pattern = pattern;
    this.partial = '';
    this.matches = 0;
  }
  /** @param {Buffer} d */
  push(d) {
    if (this.pattern) {
      const lines = (this.partial + d.toString('latin1')).split('\n');
      this.partial = /** @type {string} */ (lines.pop());
      for (const l of lines) if (l.includes(this.pattern)) this.matches++;
    }
    this.chunks.push(d);
    this.kept += d.length;
    this.total += d.length;
    while (this.kept - this.chunks[0].length >= TAIL_BYTES) this.kept -= /** @type {Buffer} */ (this.chunks.shift()).length;
  }
  text() {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - TAIL_BYTES)).toString('utf8');
  }
}
