/**
 * Offline threat intelligence: blocklist feeds loaded from files or URLs, reloaded on their own
 * schedules, merged into one IpRangeSet that is swapped in whole so a lookup never sees a
 * half-built set. A failed reload keeps the feed's last good version and is logged.
 */
import { parseBlocklist } from './blocklist-parser.js';
import type { BlocklistLineError, BlocklistParseOptions } from './blocklist-parser.js';
import type { FeedConfig } from './feed-list.js';
import { loadFeedSource, redactSource } from './feed-source.js';
import type { FeedValidators } from './feed-source.js';
import type { IpRange } from './ip-address.js';
import { IpRangeSet } from './ip-set.js';
import type { TaggedRange } from './ip-set.js';
import { isPublicAddress } from './public-address.js';
import { silentLogger } from './types.js';
import type { IntelLogger } from './types.js';

export interface ThreatFeedsOptions {
  feeds: readonly FeedConfig[];
  log?: IntelLogger;
  /** Deadline for one download, body included. Default 60 s. */
  fetchTimeoutMs?: number;
  /** Largest feed accepted, file or download. Default 64 MiB. */
  maxBytes?: number;
  parse?: BlocklistParseOptions;
  /**
   * Also match private, loopback and other non-public addresses. Off by default: feeds such as
   * firehol_level1 include bogons (10.0.0.0/8, 192.168.0.0/16), which would tag internal traffic.
   */
  matchNonPublic?: boolean;
  now?: () => number;
}

export interface FeedStats {
  name: string;
  /** Redacted: no query string or credentials. */
  source: string;
  entries: number;
  invalidLines: number;
  /** When the version in use was loaded; null until one loads. */
  loadedAtMs: number | null;
  /** When the source was last asked, whatever the answer. */
  checkedAtMs: number | null;
  lastError?: string;
  firstErrors: BlocklistLineError[];
}

interface FeedState {
  config: FeedConfig;
  entries: IpRange[];
  invalidLines: number;
  firstErrors: BlocklistLineError[];
  validators: FeedValidators | undefined;
  loadedAtMs: number | null;
  checkedAtMs: number | null;
  lastError: string | undefined;
  inFlight: Promise<boolean> | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class ThreatFeeds {
  private current = IpRangeSet.empty();
  private readonly states: FeedState[];
  private readonly log: IntelLogger;
  private readonly now: () => number;
  private readonly stopping = new AbortController();

  constructor(private readonly options: ThreatFeedsOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.states = options.feeds.map((config) => ({
      config,
      entries: [],
      invalidLines: 0,
      firstErrors: [],
      validators: undefined,
      loadedAtMs: null,
      checkedAtMs: null,
      lastError: undefined,
      inFlight: undefined,
      timer: undefined,
    }));
  }

  /** Loads every feed once, then schedules reloads. Resolves even when feeds fail (see stats()). */
  async start(): Promise<void> {
    await this.refresh();
    for (const state of this.states) this.schedule(state);
  }

  /** Reloads one feed (or all) now and rebuilds the merged set if anything changed. */
  async refresh(name?: string): Promise<void> {
    const targets = this.states.filter((s) => name === undefined || s.config.name === name);
    const changed = await Promise.all(targets.map((s) => this.reload(s)));
    if (changed.some(Boolean) && !this.stopping.signal.aborted) this.rebuild();
  }

  /** Names of the feeds listing `ip`; empty for unlisted, non-public (by default) or unparseable input. */
  match(ip: string): readonly string[] {
    const tags = this.current.match(ip);
    if (tags.length === 0 || this.options.matchNonPublic || isPublicAddress(ip)) return tags;
    return [];
  }

  /** The merged set currently in use. */
  get ranges(): IpRangeSet {
    return this.current;
  }

  stats(): FeedStats[] {
    return this.states.map((s) => ({
      name: s.config.name,
      source: redactSource(s.config.source),
      entries: s.entries.length,
      invalidLines: s.invalidLines,
      loadedAtMs: s.loadedAtMs,
      checkedAtMs: s.checkedAtMs,
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
      firstErrors: s.firstErrors,
    }));
  }

  stop(): void {
    this.stopping.abort();
    for (const state of this.states) clearTimeout(state.timer);
  }

  private schedule(state: FeedState): void {
    if (this.stopping.signal.aborted) return;
    state.timer = setTimeout(() => {
      this.refresh(state.config.name)
        .catch((err: unknown) => this.log.error({ feed: state.config.name, err }, 'threat feed refresh crashed'))
        .finally(() => this.schedule(state));
    }, state.config.refreshMs);
    state.timer.unref();
  }

  /** Resolves true when the feed's entries changed. Never rejects; one load at a time per feed. */
  private reload(state: FeedState): Promise<boolean> {
    state.inFlight ??= this.load(state).finally(() => {
      state.inFlight = undefined;
    });
    return state.inFlight;
  }

  private async load(state: FeedState): Promise<boolean> {
    const { name, source } = state.config;
    try {
      const loaded = await loadFeedSource(source, state.validators, {
        timeoutMs: this.options.fetchTimeoutMs ?? 60_000,
        maxBytes: this.options.maxBytes ?? 64 * 1024 * 1024,
        signal: this.stopping.signal,
      });
      state.checkedAtMs = this.now();
      if (loaded.kind === 'unchanged') {
        state.lastError = undefined;
        return false;
      }
      if (loaded.kind === 'failed') return this.fail(state, loaded.message);
      const parsed = parseBlocklist(loaded.body, this.options.parse);
      // An HTML error page served with 200 parses to nothing but invalid lines: not a new version.
      if (parsed.entries.length === 0 && parsed.invalidLines > 0) {
        return this.fail(state, `no valid entries (${parsed.invalidLines} invalid lines, first: ${parsed.firstErrors[0]?.reason})`);
      }
      Object.assign(state, {
        entries: parsed.entries,
        invalidLines: parsed.invalidLines,
        firstErrors: parsed.firstErrors,
        validators: loaded.validators,
        loadedAtMs: this.now(),
        lastError: undefined,
      });
      const summary = { feed: name, entries: parsed.entries.length, invalidLines: parsed.invalidLines };
      if (parsed.invalidLines > 0) this.log.warn({ ...summary, firstErrors: parsed.firstErrors.slice(0, 3) }, 'threat feed loaded with invalid lines');
      else this.log.info(summary, 'threat feed loaded');
      return true;
    } catch (err) {
      // Defensive: the loaders return failures as values, but a timer callback must never throw.
      return this.fail(state, err instanceof Error ? err.message : String(err));
    }
  }

  private fail(state: FeedState, message: string): false {
    state.lastError = message;
    if (this.stopping.signal.aborted) return false;
    const kept = state.loadedAtMs === null ? 'no version loaded yet' : 'keeping the last good version';
    this.log.warn({ feed: state.config.name, source: redactSource(state.config.source), err: message, entries: state.entries.length }, `threat feed load failed; ${kept}`);
    return false;
  }

  private rebuild(): void {
    const states = this.states;
    function* tagged(): Generator<TaggedRange> {
      for (const s of states) for (const range of s.entries) yield { tag: s.config.name, range };
    }
    this.current = IpRangeSet.build(tagged());
  }
}
