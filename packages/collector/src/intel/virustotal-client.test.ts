import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeVirusTotal } from './fixtures/fake-reputation-apis.js';
import type { FakeApi } from './fixtures/fake-reputation-apis.js';
import { VirusTotalClient } from './virustotal-client.js';

describe('virustotal-client', () => {
  let fake: FakeApi;
  let client: VirusTotalClient;

  beforeEach(async () => {
    fake = await startFakeVirusTotal();
    client = new VirusTotalClient({ apiKey: 'vt-key', baseUrl: fake.baseUrl, timeoutMs: 500 });
  });
  afterEach(() => fake.close());

  it('virustotal-client - sends the documented IP report request', async () => {
    await client.check('2001:db8::5');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0].ip).toBe('2001:db8::5');
    expect(fake.requests[0].headers['x-apikey']).toBe('vt-key');
  });

  it('virustotal-client - grades addresses by the number of engines calling them malicious', async () => {
    fake.behaviours.set('198.51.100.1', 'bad').set('198.51.100.2', 'medium').set('198.51.100.3', 'clean');
    const bad = await client.check('198.51.100.1');
    expect(bad).toMatchObject({ kind: 'verdict', verdict: { source: 'virustotal', ip: '198.51.100.1', level: 'malicious', score: 12 } });
    expect(bad.kind === 'verdict' && bad.verdict.summary).toBe('VirusTotal: 12 of 89 engines malicious; 2 suspicious; Example Hosting, AS64500, NL');
    expect(bad.kind === 'verdict' && bad.verdict.details).toMatchObject({ asn: 64500, lastAnalysisStats: { malicious: 12, suspicious: 2 } });
    expect(await client.check('198.51.100.2')).toMatchObject({ kind: 'verdict', verdict: { level: 'suspicious', score: 1 } });
    expect(await client.check('198.51.100.3')).toMatchObject({ kind: 'verdict', verdict: { level: 'normal', score: 0 } });

    const lenient = new VirusTotalClient({ apiKey: 'k', baseUrl: fake.baseUrl, maliciousEngines: 20, suspiciousEngines: 13 });
    expect(await lenient.check('198.51.100.1')).toMatchObject({ kind: 'verdict', verdict: { level: 'normal' } });
  });

  it('virustotal-client - maps NotFoundError, WrongCredentialsError, QuotaExceededError and 503', async () => {
    fake.behaviours.set('1.0.0.1', 'not-found').set('1.0.0.2', 'unauthorized').set('1.0.0.3', 'rate-limited').set('1.0.0.4', 'server-error').set('1.0.0.5', 'unprocessable');
    fake.retryAfterS = 60;
    expect(await client.check('1.0.0.1')).toEqual({ kind: 'not-found' });
    expect(await client.check('1.0.0.2')).toMatchObject({ kind: 'auth', status: 401, message: expect.stringMatching(/WrongCredentialsError/) });
    expect(await client.check('1.0.0.3')).toMatchObject({ kind: 'rate-limited', retryAfterMs: 60_000, message: expect.stringMatching(/QuotaExceededError/) });
    expect(await client.check('1.0.0.4')).toMatchObject({ kind: 'server', status: 503 });
    expect(await client.check('1.0.0.5')).toMatchObject({ kind: 'bad-request', status: 400 });
  });

  it('virustotal-client - a slow answer times out; malformed JSON, a wrong shape and a huge body are failures', async () => {
    fake.behaviours.set('2.0.0.1', 'slow').set('2.0.0.2', 'malformed').set('2.0.0.3', 'huge').set('2.0.0.4', 'wrong-shape');
    expect(await client.check('2.0.0.1')).toMatchObject({ kind: 'timeout' });
    expect(await client.check('2.0.0.2')).toMatchObject({ kind: 'malformed' });
    expect(await client.check('2.0.0.3')).toMatchObject({ kind: 'too-large' });
    expect(await client.check('2.0.0.4')).toMatchObject({ kind: 'malformed', message: expect.stringMatching(/data\.type/) });
  });

  it('virustotal-client - a 404 without NotFoundError (a wrong base URL) is an error, not "no data"', async () => {
    const wrongPath = new VirusTotalClient({ apiKey: 'k', baseUrl: `${fake.baseUrl}/elsewhere` });
    expect(await wrongPath.check('8.8.8.8')).toMatchObject({ kind: 'bad-request', status: 404 });
  });
});
