import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbuseIpdbClient } from './abuseipdb-client.js';
import { startFakeAbuseIpdb, unusedLoopbackUrl } from './fixtures/fake-reputation-apis.js';
import type { FakeApi } from './fixtures/fake-reputation-apis.js';

describe('abuseipdb-client', () => {
  let fake: FakeApi;
  let client: AbuseIpdbClient;

  beforeEach(async () => {
    fake = await startFakeAbuseIpdb();
    client = new AbuseIpdbClient({ apiKey: 'test-key', baseUrl: fake.baseUrl, timeoutMs: 500 });
  });
  afterEach(() => fake.close());

  it('abuseipdb-client - sends the documented check request', async () => {
    await client.check('2001:db8:1::7');
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request.ip).toBe('2001:db8:1::7');
    expect(new URL(request.path, 'http://x').searchParams.get('maxAgeInDays')).toBe('90');
    expect(request.headers.key).toBe('test-key');
    expect(request.headers.accept).toBe('application/json');
  });

  it('abuseipdb-client - grades addresses by abuseConfidenceScore', async () => {
    fake.behaviours.set('203.0.113.1', 'bad').set('203.0.113.2', 'medium').set('203.0.113.3', 'clean');
    const bad = await client.check('203.0.113.1');
    expect(bad.kind === 'verdict' && bad.verdict).toMatchObject({ source: 'abuseipdb', ip: '203.0.113.1', level: 'malicious', score: 100 });
    expect(bad.kind === 'verdict' && bad.verdict.summary).toMatch(/100%.*1204 reports from 402 users/);
    expect(bad.kind === 'verdict' && bad.verdict.details).toMatchObject({ countryCode: 'CN', totalReports: 1204, isWhitelisted: false });
    expect(await client.check('203.0.113.2')).toMatchObject({ kind: 'verdict', verdict: { level: 'suspicious', score: 40 } });
    expect(await client.check('203.0.113.3')).toMatchObject({ kind: 'verdict', verdict: { level: 'normal', score: 0 } });

    const strict = new AbuseIpdbClient({ apiKey: 'k', baseUrl: fake.baseUrl, maliciousScore: 30, suspiciousScore: 1 });
    expect(await strict.check('203.0.113.2')).toMatchObject({ kind: 'verdict', verdict: { level: 'malicious' } });
  });

  it('abuseipdb-client - maps 401, 422, 429 with Retry-After and 503 to outcomes', async () => {
    fake.behaviours.set('1.1.1.1', 'unauthorized').set('1.1.1.2', 'unprocessable').set('1.1.1.3', 'rate-limited').set('1.1.1.4', 'server-error');
    fake.retryAfterS = 29;
    expect(await client.check('1.1.1.1')).toMatchObject({ kind: 'auth', status: 401, message: expect.stringMatching(/Authentication failed/) });
    expect(await client.check('1.1.1.2')).toMatchObject({ kind: 'bad-request', status: 422 });
    expect(await client.check('1.1.1.3')).toEqual({ kind: 'rate-limited', retryAfterMs: 29_000, message: expect.stringMatching(/Daily rate limit/) });
    expect(await client.check('1.1.1.4')).toMatchObject({ kind: 'server', status: 503 });
  });

  it('abuseipdb-client - a slow answer times out; malformed JSON, a wrong shape and a huge body are failures', async () => {
    fake.behaviours.set('2.2.2.1', 'slow').set('2.2.2.2', 'malformed').set('2.2.2.3', 'huge').set('2.2.2.4', 'wrong-shape');
    expect(await client.check('2.2.2.1')).toMatchObject({ kind: 'timeout' });
    expect(await client.check('2.2.2.2')).toMatchObject({ kind: 'malformed' });
    expect(await client.check('2.2.2.3')).toMatchObject({ kind: 'too-large' });
    expect(await client.check('2.2.2.4')).toMatchObject({ kind: 'malformed', message: expect.stringMatching(/abuseConfidenceScore/) });
    expect(fake.requests).toHaveLength(4);
  });

  it('abuseipdb-client - an unreachable server and an aborted request resolve instead of throwing', async () => {
    const nowhere = new AbuseIpdbClient({ apiKey: 'k', baseUrl: await unusedLoopbackUrl() });
    expect(await nowhere.check('8.8.8.8')).toMatchObject({ kind: 'network', message: expect.stringMatching(/ECONNREFUSED/) });
    fake.fallback = 'slow';
    const controller = new AbortController();
    const pending = client.check('8.8.4.4', controller.signal);
    controller.abort();
    expect(await pending).toEqual({ kind: 'aborted' });
  });
});
