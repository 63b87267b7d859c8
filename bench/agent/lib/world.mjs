// The synthetic network the mixed capture describes: a LAN of client hosts (a few on
// tagged VLANs) behind one router, resolvers, and internet sites whose names resolve
// consistently (the DNS answer for a name is the address its TLS/HTTP flows then use).
import { Rng } from './rng.mjs';

const BASES = [
  'google.com', 'youtube.com', 'github.com', 'wikipedia.org', 'amazon.com', 'microsoft.com', 'apple.com',
  'cloudflare.com', 'netflix.com', 'office.com', 'live.com', 'linkedin.com', 'slack.com', 'zoom.us',
  'debian.org', 'ubuntu.com', 'npmjs.org', 'pypi.org', 'docker.io', 'gitlab.com', 'stackoverflow.com',
  'reddit.com', 'twitch.tv', 'spotify.com', 'dropbox.com', 'salesforce.com', 'atlassian.net', 'fastly.net',
  'akamaihd.net', 'cloudfront.net', 'googleapis.com', 'gstatic.com', 'doubleclick.net', 'facebook.com',
  'instagram.com', 'whatsapp.net', 'bbc.co.uk', 'nytimes.com', 'theguardian.com', 'mozilla.org',
  'letsencrypt.org', 'digicert.com', 'windowsupdate.com', 'office365.com', 'okta.com', 'sentry.io',
  'datadoghq.com', 'grafana.net', 'example.com', 'example.org',
];
const PREFIXES = ['www', 'api', 'cdn', 'static', 'img', 'login', 'mail', 'docs', 'assets', 'update', 'edge', 'media'];
const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'curl/7.88.1',
  'Debian APT-HTTP/1.3 (2.6.1)',
  'python-requests/2.28.1',
];
const PATHS = ['/', '/index.html', '/api/v1/items', '/static/app.js', '/img/logo.png', '/favicon.ico', '/debian/dists/bookworm/InRelease', '/search?q=flow'];
const V4_FIRST_OCTETS = [3, 13, 18, 20, 23, 31, 34, 35, 37, 45, 46, 52, 54, 62, 64, 66, 69, 74, 77, 78, 80, 81, 85, 87, 88, 91, 93, 94, 104, 107, 108, 140, 142, 151, 157, 162, 173, 176, 185, 188, 193, 194, 195, 199, 204, 208, 209, 212, 213, 216, 217];
const V6_PREFIXES = [[0x2a00, 0x1450], [0x2606, 0x4700], [0x2a03, 0x2880], [0x2620, 0x01ec], [0x2a04, 0x4e42], [0x2600, 0x9000]];

/** @typedef {{ name: string, v4: Uint8Array[], v6: Uint8Array[], cname?: string }} Site */
/**
 * A host; `nextPort` is its next ephemeral port (handed out in order, as a real stack
 * never reuses a 5-tuple that is still in use).
 * @typedef {{ mac: Uint8Array, v4: Uint8Array, v6: Uint8Array, vlan: number, nextPort?: number }} Host
 */

export class World {
  /** @param {number} seed */
  constructor(seed) {
    const rng = new Rng(seed ^ 0x5eed);
    this.routerMac = Uint8Array.of(0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e);
    this.routerV4 = Uint8Array.of(10, 1, 0, 1);
    this.fileServer = { mac: Uint8Array.of(0x02, 0x00, 0x0a, 0x01, 0xc8, 0x0a), v4: Uint8Array.of(10, 1, 200, 10) };
    /** @type {Host[]} */
    this.clients = [];
    for (let i = 0; i < 480; i++) {
      const net = 1 + (i >> 7);
      const host = 10 + (i & 127);
      this.clients.push({
        mac: Uint8Array.of(0x02, 0x00, 0x0a, 0x01, net, host),
        v4: Uint8Array.of(10, 1, net, host),
        v6: v6Addr([0x2001, 0x0db8, 0x0001, net, 0, 0, 0, host]),
        // Every 20th host sits on a tagged VLAN: about 5% of the frames carry an 802.1Q tag.
        vlan: i % 20 === 7 ? 100 + net : 0,
        nextPort: rng.range(32_768, 60_999),
      });
    }
    /** @type {Site[]} */
    this.sites = [];
    for (const base of BASES) {
      const n = rng.range(2, 6);
      const prefixes = shuffle(rng, [...PREFIXES]).slice(0, n);
      for (const p of prefixes) this.sites.push(this.makeSite(rng, `${p}.${base}`));
    }
    this.ntpServers = ['0.debian.pool.ntp.org', '1.debian.pool.ntp.org', 'time.cloudflare.com'].map((n) => this.makeSite(rng, n));
    this.resolversV4 = [this.routerV4, Uint8Array.of(8, 8, 8, 8), Uint8Array.of(1, 1, 1, 1), Uint8Array.of(9, 9, 9, 9)];
    this.resolversV6 = [v6Addr([0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888]), v6Addr([0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111])];
    this.userAgents = USER_AGENTS;
    this.paths = PATHS;
  }

  /** @param {Rng} rng @param {string} name @returns {Site} */
  makeSite(rng, name) {
    const v4 = [];
    const v6 = [];
    for (let i = rng.range(1, 4); i > 0; i--) v4.push(randomPublicV4(rng));
    for (let i = rng.range(1, 2); i > 0; i--) {
      const [a, b] = rng.pick(V6_PREFIXES);
      v6.push(v6Addr([a, b, rng.int(0x10000), rng.int(0x10000), 0, 0, 0, rng.range(1, 0x2fff)]));
    }
    const cname = rng.chance(0.3) ? `${name.split('.')[0]}.${rng.pick(['edgekey.net', 'cdn.cloudflare.net', 'fastly-edge.com'])}` : undefined;
    return { name, v4, v6, cname };
  }

  /** A client, popular ones more often (a few hosts make most of the traffic). */
  pickClient(rng) {
    return this.clients[Math.floor(this.clients.length * Math.pow(rng.float(), 2))];
  }

  /** A site, Zipf-like: a few names take most lookups. */
  pickSite(rng) {
    return this.sites[Math.floor(this.sites.length * Math.pow(rng.float(), 2.5))];
  }
}

/** @template T @param {Rng} rng @param {T[]} items @returns {T[]} `items`, shuffled in place */
function shuffle(rng, items) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** @param {Rng} rng */
export function randomPublicV4(rng) {
  return Uint8Array.of(rng.pick(V4_FIRST_OCTETS), rng.int(256), rng.int(256), rng.range(1, 254));
}

/** @param {number[]} words eight 16-bit groups */
export function v6Addr(words) {
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Random name for lookups that fail (typos, search-domain suffixes, tracking hosts). */
export function junkName(rng) {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let label = '';
  for (let i = rng.range(6, 14); i > 0; i--) label += chars[rng.int(chars.length)];
  return `${label}.${rng.pick(['corp.local', 'lan', 'example.net', 'home.arpa', 'invalid'])}`;
}
