/**
 * Pieces of DNS names for the tunnelling detector: the registered domain (what someone bought and
 * runs the name servers of) and Shannon entropy.
 *
 * No Public Suffix List is bundled: the registered domain is the last two labels, or three
 * under the common two-label country suffixes below (co.uk, com.au, ...). A name under a suffix
 * missing here is grouped one level too high (all of `*.example.xx.yy` as `xx.yy`), which only
 * merges subjects; it never hides a long or random label.
 */
const TWO_LABEL_SUFFIXES = new Set(
  (
    'co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk sch.uk nhs.uk ' +
    'com.au net.au org.au edu.au gov.au asn.au id.au co.nz org.nz net.nz govt.nz ac.nz ' +
    'co.jp ne.jp or.jp ac.jp go.jp ad.jp ed.jp gr.jp lg.jp ' +
    'com.br net.br org.br gov.br edu.br com.cn net.cn org.cn gov.cn edu.cn ac.cn ' +
    'co.in net.in org.in gov.in ac.in firm.in gen.in ind.in co.za org.za gov.za ac.za web.za ' +
    'com.mx org.mx gob.mx net.mx edu.mx com.ar gob.ar net.ar org.ar com.tr org.tr gov.tr edu.tr net.tr ' +
    'co.kr or.kr ac.kr go.kr ne.kr com.sg edu.sg gov.sg net.sg org.sg com.hk org.hk edu.hk gov.hk net.hk ' +
    'com.tw org.tw edu.tw gov.tw net.tw co.il org.il ac.il gov.il net.il co.id or.id ac.id go.id web.id ' +
    'com.my org.my gov.my edu.my net.my com.ph gov.ph edu.ph com.vn gov.vn edu.vn com.ua gov.ua org.ua ' +
    'com.pl net.pl org.pl co.th ac.th go.th in.th com.eg gov.eg edu.eg com.sa gov.sa edu.sa com.pk gov.pk edu.pk ' +
    'com.ng gov.ng edu.ng co.ke or.ke ac.ke com.co gov.co edu.co com.pe gob.pe com.ve com.ec com.uy com.py ' +
    'com.ru org.ru net.ru com.es org.es gob.es co.at or.at ac.at com.gr edu.gr gov.gr com.cy com.mt com.pt'
  ).split(' '),
);

export interface SplitName {
  /** The registered domain, e.g. `example.co.uk`. */
  domain: string;
  /** Labels left of it, e.g. `www.api` ('' for the domain itself). */
  subdomain: string;
}

/** Splits a query name (lower-case, dotted, as the agent reports it); null for single labels and bare suffixes. */
export function splitRegisteredDomain(name: string): SplitName | null {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const last = trimmed.lastIndexOf('.');
  if (last <= 0) return null;
  const secondLast = trimmed.lastIndexOf('.', last - 1);
  let cut = secondLast;
  if (TWO_LABEL_SUFFIXES.has(trimmed.slice(secondLast + 1))) {
    if (secondLast <= 0) return null;
    cut = trimmed.lastIndexOf('.', secondLast - 1);
  }
  return cut < 0
    ? { domain: trimmed, subdomain: '' }
    : { domain: trimmed.slice(cut + 1), subdomain: trimmed.slice(0, cut) };
}

const counts = new Int32Array(256);
const touched = new Uint8Array(256);

/** Shannon entropy in bits per character of `s`, dots left out (they separate, they do not carry data). */
export function shannonEntropy(s: string): number {
  let n = 0;
  let distinct = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if (c === 0x2e) continue;
    if (counts[c] === 0) touched[distinct++] = c;
    counts[c]++;
    n++;
  }
  let bits = 0;
  for (let i = 0; i < distinct; i++) {
    const p = counts[touched[i]] / n;
    bits -= p * Math.log2(p);
    counts[touched[i]] = 0;
  }
  return bits;
}

/** Length of the longest dot-separated label. */
export function longestLabel(s: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 0x2e) run = 0;
    else if (++run > longest) longest = run;
  }
  return longest;
}

/** Length without dots. */
export function lengthWithoutDots(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x2e) n++;
  return n;
}

/** True when `name` is `zone` or lies under it. */
export function isUnderZone(name: string, zone: string): boolean {
  return name === zone || (name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 0x2e);
}
