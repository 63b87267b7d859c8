import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { type CapDevice, loadCap } from './live-source.js';
import { readSysfs } from './live-stats.js';

export interface InterfaceAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  netmask: string;
  /** e.g. 192.0.2.2/24 */
  cidr: string | null;
}

export interface InterfaceInfo {
  name: string;
  /** libpcap's description (pseudo-devices have one). */
  description?: string;
  addresses: InterfaceAddress[];
  /** Administratively up (IFF_UP) and operationally up or "unknown" (lo, tun, dummy). */
  up: boolean;
  loopback: boolean;
  /** /sys/class/net/IF/operstate: up, down, unknown, lowerlayerdown, dormant... */
  operState?: string;
  /** A libpcap pseudo-device ("any", "nflog", "dbus-system"...), not a kernel interface. */
  pseudo: boolean;
  /** Carries the IPv4 or IPv6 default route. */
  defaultRoute: boolean;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const SYS_NET = '/sys/class/net';

/**
 * The interfaces live capture can open: kernel interfaces (flags and state from sysfs,
 * addresses from os.networkInterfaces()) in libpcap's order of preference, then libpcap's
 * pseudo-devices. Without the cap addon, only kernel interfaces are listed.
 */
export function listInterfaces(): InterfaceInfo[] {
  let pcapDevices: CapDevice[] = [];
  try {
    pcapDevices = loadCap().Cap.deviceList();
  } catch {
    // addon missing or pcap_findalldevs failed: sysfs and os still list the kernel interfaces
  }
  const osAddrs = networkInterfaces();
  const haveSysfs = existsSync(SYS_NET);
  const kernelNames = haveSysfs ? sysfsByIfindex() : Object.keys(osAddrs);
  const routes = defaultRouteInterfaces();

  const byName = new Map<string, InterfaceInfo>();
  for (const name of kernelNames) {
    const addresses: InterfaceAddress[] = (osAddrs[name] ?? []).map((a) => ({
      address: a.address,
      family: a.family,
      netmask: a.netmask,
      cidr: a.cidr,
    }));
    const pcap = pcapDevices.find((d) => d.name === name);
    let up: boolean;
    let loopback: boolean;
    let operState: string | undefined;
    if (haveSysfs) {
      const flags = Number.parseInt(readSysfs(`${SYS_NET}/${name}/flags`) ?? '0', 16) || 0;
      operState = readSysfs(`${SYS_NET}/${name}/operstate`);
      up = (flags & IFF_UP) !== 0 && (operState === 'up' || operState === 'unknown');
      loopback = (flags & IFF_LOOPBACK) !== 0;
    } else {
      up = addresses.length > 0;
      loopback = pcap?.flags === 'PCAP_IF_LOOPBACK' || (osAddrs[name]?.some((a) => a.internal) ?? false);
    }
    byName.set(name, {
      name,
      ...(pcap?.description ? { description: pcap.description } : {}),
      addresses,
      up,
      loopback,
      ...(operState !== undefined ? { operState } : {}),
      pseudo: false,
      defaultRoute: routes.has(name),
    });
  }

  const out: InterfaceInfo[] = [];
  for (const d of pcapDevices) {
    const known = byName.get(d.name);
    if (known) {
      out.push(known);
      byName.delete(d.name);
    } else if (!haveSysfs || !existsSync(`${SYS_NET}/${d.name}`)) {
      const loopback = d.flags === 'PCAP_IF_LOOPBACK';
      out.push({
        name: d.name,
        ...(d.description ? { description: d.description } : {}),
        addresses: [],
        up: true,
        loopback,
        pseudo: true,
        defaultRoute: false,
      });
    }
  }
  out.push(...byName.values()); // kernel interfaces libpcap did not list
  return out;
}

/**
 * The interface to capture on when none is configured: the first one that is up, not
 * loopback and not a pseudo-device, preferring one that carries a default route. Undefined
 * when there is none: the caller says so.
 */
export function defaultInterface(list: InterfaceInfo[] = listInterfaces()): InterfaceInfo | undefined {
  const candidates = list.filter((i) => i.up && !i.loopback && !i.pseudo);
  return candidates.find((i) => i.defaultRoute) ?? candidates[0];
}

/** Kernel interface names in ifindex order. */
function sysfsByIfindex(): string[] {
  try {
    return readdirSync(SYS_NET)
      .map((name) => ({ name, index: Number(readSysfs(`${SYS_NET}/${name}/ifindex`) ?? Infinity) }))
      .sort((a, b) => a.index - b.index)
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** Interfaces named by an IPv4 (/proc/net/route) or IPv6 (/proc/net/ipv6_route) default route. */
function defaultRouteInterfaces(): Set<string> {
  const out = new Set<string>();
  for (const line of readLines('/proc/net/route').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '00000000' && f[7] === '00000000') out.add(f[0]);
  }
  for (const line of readLines('/proc/net/ipv6_route')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 10 && /^0{32}$/.test(f[0]) && f[1] === '00' && f[9] !== 'lo') out.add(f[9]);
  }
  return out;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
}
