import { describe, expect, it } from 'vitest';
import { parseFeedList } from './feed-list.js';

describe('feed-list', () => {
  it('feed-list - parses comma- and newline-separated name=source pairs', () => {
    const result = parseFeedList(
      'firehol_level1=/var/lib/nta/firehol_level1.netset, spamhaus_drop=https://www.spamhaus.org/drop/drop_v4.json\nlocal=file:///etc/nta/watch.txt',
      { refreshMs: 60_000 },
    );
    expect(result.errors).toEqual([]);
    expect(result.feeds).toEqual([
      { name: 'firehol_level1', source: '/var/lib/nta/firehol_level1.netset', refreshMs: 60_000 },
      { name: 'spamhaus_drop', source: 'https://www.spamhaus.org/drop/drop_v4.json', refreshMs: 60_000 },
      { name: 'local', source: 'file:///etc/nta/watch.txt', refreshMs: 60_000 },
    ]);
  });

  it('feed-list - keeps commas and equals signs inside a URL query', () => {
    const result = parseFeedList('vendor=https://feeds.example.net/list?fields=ip,cidr&key=abc,other=/tmp/x.txt');
    expect(result.feeds.map((f) => [f.name, f.source])).toEqual([
      ['vendor', 'https://feeds.example.net/list?fields=ip,cidr&key=abc'],
      ['other', '/tmp/x.txt'],
    ]);
    expect(result.feeds[0].refreshMs).toBe(3_600_000);
  });

  it('feed-list - reports malformed pairs and duplicates without dropping the good ones', () => {
    const result = parseFeedList('good=/a.txt,,bad name=/b.txt,good=/c.txt,empty=,nourl=https://exa mple.com:99999/x');
    expect(result.feeds).toEqual([{ name: 'good', source: '/a.txt', refreshMs: 3_600_000 }]);
    expect(result.errors).toHaveLength(4);
    expect(result.errors.join('\n')).toMatch(/listed twice/);
    expect(parseFeedList('').feeds).toEqual([]);
    expect(parseFeedList('just-a-path').errors).toEqual(['"just-a-path": expected name=source']);
  });
});
