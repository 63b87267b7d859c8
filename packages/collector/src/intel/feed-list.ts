/**
 * Parses the THREAT_FEEDS setting: `name=source` pairs separated by commas or newlines, e.g.
 * `firehol_level1=/var/lib/nta/firehol_level1.netset,spamhaus_drop=https://www.spamhaus.org/drop/drop_v4.json`.
 * A comma only separates pairs when a `name=` follows it, so URLs with commas in their query survive.
 */

export interface FeedConfig {
  /** Reported by `match` and stored in the flow's `threat` column. */
  name: string;
  /** A file path, a file: URL or an http(s) URL. */
  source: string;
  refreshMs: number;
}

export interface FeedListResult {
  feeds: FeedConfig[];
  /** One message per rejected pair; the caller decides whether that is fatal. */
  errors: string[];
}

const FEED_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// A comma separates pairs when what follows looks like "name=" (no URL punctuation before the
// '='), another separator, or the end; a comma inside a URL query ("?f=ip,cidr&k=1") does not.
const PAIR_SEPARATOR = /\n|,(?=[^,/=:&?;]*=|\s*,|\s*$)/;

export function parseFeedList(text: string, options: { refreshMs?: number } = {}): FeedListResult {
  const refreshMs = options.refreshMs ?? 3_600_000;
  const result: FeedListResult = { feeds: [], errors: [] };
  const seen = new Set<string>();
  for (const rawPair of text.split(PAIR_SEPARATOR)) {
    const pair = rawPair.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) {
      result.errors.push(`"${pair.slice(0, 80)}": expected name=source`);
      continue;
    }
    const name = pair.slice(0, eq).trim();
    const source = pair.slice(eq + 1).trim();
    if (!FEED_NAME.test(name)) {
      result.errors.push(`"${name.slice(0, 80)}": a feed name is 1-64 letters, digits, '_', '.' or '-'`);
      continue;
    }
    if (seen.has(name)) {
      result.errors.push(`"${name}": listed twice`);
      continue;
    }
    if (source === '') {
      result.errors.push(`"${name}": no source`);
      continue;
    }
    if (/^https?:/i.test(source) && !URL.canParse(source)) {
      result.errors.push(`"${name}": source is not a valid URL`);
      continue;
    }
    seen.add(name);
    result.feeds.push({ name, source, refreshMs });
  }
  return result;
}
