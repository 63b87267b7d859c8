/**
 * Drives the FlowPipeline fuzzer: a packet clock that is mostly sane and sometimes absurd,
 * and a harness that feeds mutants to a run of pipelines and checks their invariants.
 */
import { FlowPipeline } from '../../packages/agent/src/index.js';
import { hex, type Rng } from './fuzz-samples.js';
import type { Mutant } from './fuzz-packet-mutations.js';

// ------------------------------------------------------------------ timestamps

const ODD_TIMES = [0, -0, -1, -1e12, 1e20, -1e20, Number.MAX_VALUE, -Number.MAX_VALUE, 8.64e15, 8.64e15 + 1, NaN, Infinity, -Infinity, 4294967295999.999];

/** Packet time as a fuzzed source might produce it: mostly advancing, sometimes absurd. */
export class FuzzClock {
  private ms = 1_700_000_000_000;
  private mode = 0;
  constructor(private readonly rng: Rng) {}

  /** Called every few thousand packets: how time behaves for the next stretch. */
  shift(): void {
    this.mode = this.rng.int(6);
    if (this.mode === 2) this.ms = 0;
    if (this.mode === 3) this.ms = -1e12;
  }

  next(): number {
    const r = this.rng;
    switch (this.mode) {
      case 0: // advancing, with idle gaps that expire flows
        this.ms += r.chance(0.01) ? 20_000 + r.int(400_000) : r.int(50);
        return this.ms;
      case 1: // going backwards
        this.ms -= r.int(2000);
        return this.ms;
      case 2: // stuck at zero
        return 0;
      case 3: // negative and advancing
        this.ms += r.int(1000);
        return this.ms;
      case 4: // jumping around
        this.ms += r.int(2_000_000) - 1_000_000;
        return this.ms;
      default:
        return r.chance(0.1) ? r.pick(ODD_TIMES) : (this.ms += r.int(100));
    }
  }
}

// ------------------------------------------------------------------ the fuzz harness

export interface FuzzFailure {
  kind: string;
  origin: string;
  linkType: number;
  tsMs: number;
  capLen: number;
  error: string;
  bytes: string;
}

/**
 * Feeds mutants to a pipeline, swapping in a fresh one every `perPipeline` packets (with a
 * different small maxFlows) so each gets finished and checked. Checks: nothing escapes;
 * the pipeline counted every packet; flows stay within maxFlows and all leave at finish();
 * every packet lands in exactly one flow or one skip counter.
 */
export class FuzzHarness {
  readonly failures: FuzzFailure[] = [];
  readonly invariantErrors: string[] = [];
  fed = 0;
  pipelines = 0;
  flowsOut = 0;
  private pipeline!: FlowPipeline;
  private maxFlows = 16;
  private fedHere = 0;
  private flowPackets = 0;
  private readonly maxFlowsChoices = [16, 64, 256];

  constructor(
    private readonly rng: Rng,
    private readonly clock: FuzzClock,
    private readonly perPipeline: number,
  ) {
    this.fresh();
  }

  private fresh(): void {
    this.maxFlows = this.rng.pick(this.maxFlowsChoices);
    this.fedHere = 0;
    this.flowPackets = 0;
    this.pipelines++;
    this.pipeline = new FlowPipeline(
      { agentId: 'fuzz', flowTable: { maxFlows: this.maxFlows, activeTimeoutMs: this.rng.pick([0, 1000, 60_000]) } },
      {
        onFlow: (f) => {
          this.flowsOut++;
          this.flowPackets += f.packets;
          if (!(f.packets >= 1 && f.packets === f.packetsToDst + f.packetsToSrc && (f.family === 4 || f.family === 6) && f.sport >= 0 && f.sport <= 65535 && f.dport >= 0 && f.dport <= 65535 && f.src.length > 0)) {
            if (this.invariantErrors.length < 10) this.invariantErrors.push(`malformed flow record ${JSON.stringify(f).slice(0, 300)}`);
          }
        },
      },
    );
  }

  feed(m: Mutant, origin: string): void {
    const tsMs = this.clock.next();
    const wireLen = this.rng.chance(0.02) ? this.rng.pick([0, 0xffffffff, m.capLen + 1]) : m.capLen;
    try {
      // Now and then time advances without a packet, as on a quiet live link.
      if (this.rng.chance(0.001)) this.pipeline.tick(this.clock.next());
      this.pipeline.packet(m.linkType, tsMs, m.data, 0, m.capLen, wireLen);
    } catch (err) {
      this.fail(m, origin, tsMs, err);
      this.fresh();
      return;
    }
    this.fed++;
    this.fedHere++;
    if ((this.fedHere & 1023) === 0 && this.pipeline.stats().activeFlows > Math.max(16, this.maxFlows)) {
      this.invariantErrors.push(`${this.pipeline.stats().activeFlows} active flows with maxFlows ${this.maxFlows}`);
    }
    if ((this.fed & 4095) === 0) this.clock.shift();
    if (this.fedHere >= this.perPipeline) this.close();
  }

  /** Finishes the current pipeline, checks its totals, and starts another. */
  close(): void {
    try {
      this.pipeline.finish();
    } catch (err) {
      this.fail({ linkType: -1, data: new Uint8Array(0), capLen: 0, kind: 'finish()' }, '', NaN, err);
    }
    const s = this.pipeline.stats();
    const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
    if (s.packets !== this.fedHere) this.invariantErrors.push(`pipeline counted ${s.packets} packets, fed ${this.fedHere}`);
    if (s.activeFlows !== 0) this.invariantErrors.push(`${s.activeFlows} flows active after finish()`);
    if (this.failures.length === 0 && this.flowPackets + skipped !== s.packets) {
      this.invariantErrors.push(`packets in flows (${this.flowPackets}) + skipped (${skipped}) != packets (${s.packets})`);
    }
    this.fresh();
  }

  private readonly failureKinds = new Map<string, number>();

  /** Keeps the first three failures of each kind of mutation and error, so one bug does not hide another. */
  private fail(m: Mutant, origin: string, tsMs: number, err: unknown): void {
    const key = `${m.kind.split(' ')[0]} ${err instanceof Error ? err.name + err.message.slice(0, 40) : String(err).slice(0, 40)}`;
    const seen = this.failureKinds.get(key) ?? 0;
    this.failureKinds.set(key, seen + 1);
    if (seen >= 3 || this.failures.length >= 30) return;
    this.failures.push({
      kind: m.kind,
      origin,
      linkType: m.linkType,
      tsMs,
      capLen: m.capLen,
      error: err instanceof Error ? `${err.name}: ${err.message} @ ${err.stack?.split('\n')[1]?.trim() ?? ''}` : String(err),
      bytes: hex(m.data.subarray(0, Math.min(m.capLen, 256))) + (m.capLen > 256 ? `... (${m.capLen} bytes)` : ''),
    });
  }
}
