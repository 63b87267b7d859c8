import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, isValidAgentId, UsageError } from '@nta/shared';
import { z } from 'zod';
import type { FlowTableOptions } from './flow/flow-table.js';
import type { OutputFormat } from './output/flow-writer.js';

/** Environment the agent reads; only this module touches process.env. */
const Env = z.object({
  NATS_URL: z.string().min(1).optional(),
  NTA_AGENT_ID: z.string().refine(isValidAgentId, 'must be 1-64 characters of A-Z a-z 0-9 _ -').optional(),
  NTA_SPOOL_DIR: z.string().min(1).optional(),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
});
type Env = z.infer<typeof Env>;

export interface NatsConfig {
  url: string;
  user?: string;
  password?: string;
  token?: string;
  credsFile?: string;
  spoolDir: string;
}

interface CommonConfig {
  agentId: string;
  hostname: string;
  flowTable: Partial<FlowTableOptions>;
  l7Hints: boolean;
  format: OutputFormat;
  nats?: NatsConfig;
  logLevel: string;
}

export interface ReadConfig extends CommonConfig {
  command: 'read';
  file: string;
  /** Replay pacing relative to capture time; Infinity reads as fast as possible. */
  speed: number;
  /** Stamp packets as if the capture started now (demos); forensic imports keep original times. */
  shiftToNow: boolean;
}

export interface CaptureConfig extends CommonConfig {
  command: 'capture';
  iface?: string;
  filter?: string;
  snapLen: number;
  promiscuous: boolean;
  bufferBytes: number;
  heartbeatIntervalMs: number;
}

const commonOptions = {
  format: { type: 'string' },
  nats: { type: 'string' },
  'agent-id': { type: 'string' },
  'spool-dir': { type: 'string' },
  'active-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-flows': { type: 'string' },
  'no-l7': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const readOptions = {
  ...commonOptions,
  speed: { type: 'string' },
  'shift-to-now': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const captureOptions = {
  ...commonOptions,
  interface: { type: 'string', short: 'i' },
  filter: { type: 'string', short: 'f' },
  snaplen: { type: 'string' },
  'no-promisc': { type: 'boolean' },
  'buffer-mb': { type: 'string' },
  'heartbeat-interval': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, command: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages are clear ("Unknown option '--x'"); drop its hint about '--' prefixes.
    const message = (err as Error).message.split('. To specify')[0];
    throw new UsageError(`${command}: ${message}`);
  }
}

function numberFlag(name: string, raw: string | undefined, schema: z.ZodNumber, fallback: number, expected: string): number {
  if (raw === undefined) return fallback;
  const r = schema.safeParse(Number(raw));
  if (raw.trim() === '' || !r.success) throw new UsageError(`--${name}: expected ${expected}, got ${JSON.stringify(raw)}`);
  return r.data;
}

function readEnv(env: NodeJS.ProcessEnv): Env {
  const r = Env.safeParse(env);
  if (!r.success) throw new ConfigError(`environment: ${z.prettifyError(r.error)}`);
  return r.data;
}

export function defaultAgentId(host: string = hostname()): string {
  const id = host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return id.length > 0 ? id : 'agent';
}

/**
 * `natsFromEnv`: whether NATS_URL alone makes the command publish (capture: yes; read: no,
 * a file goes to stdout unless --nats asks otherwise).
 */
function common(values: Record<string, string | boolean | undefined>, env: Env, defaultLogLevel: string, natsFromEnv: boolean): CommonConfig {
  const format = (values.format as string | undefined) ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv' && format !== 'none') {
    throw new UsageError(`--format: expected ndjson, csv or none, got ${JSON.stringify(format)}`);
  }
  const agentId = (values['agent-id'] as string | undefined) ?? env.NTA_AGENT_ID ?? defaultAgentId();
  if (!isValidAgentId(agentId)) throw new UsageError(`--agent-id: must be 1-64 characters of A-Z a-z 0-9 _ -, got ${JSON.stringify(agentId)}`);
  const natsUrl = (values.nats as string | undefined) ?? (natsFromEnv ? env.NATS_URL : undefined);
  const activeS = numberFlag('active-timeout', values['active-timeout'] as string | undefined, z.number().min(0), 60, 'seconds >= 0');
  const idleS = numberFlag('idle-timeout', values['idle-timeout'] as string | undefined, z.number().min(0.001), 15, 'seconds > 0');
  const maxFlows = numberFlag('max-flows', values['max-flows'] as string | undefined, z.number().int().min(16).max(16_777_216), 1 << 20, 'an integer from 16 to 16777216');
  let nats: NatsConfig | undefined;
  if (natsUrl !== undefined) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(natsUrl) && !/^[\w.-]+:\d+$/.test(natsUrl)) {
      throw new UsageError(`--nats: expected a URL such as nats://127.0.0.1:4222, got ${JSON.stringify(natsUrl)}`);
    }
    nats = {
      url: natsUrl,
      user: env.NATS_USER,
      password: env.NATS_PASSWORD,
      token: env.NATS_TOKEN,
      credsFile: env.NATS_CREDS,
      spoolDir: (values['spool-dir'] as string | undefined) ?? env.NTA_SPOOL_DIR ?? `var/spool/${agentId}`,
    };
  }
  return {
    agentId,
    hostname: hostname() || agentId,
    flowTable: { activeTimeoutMs: activeS * 1000, idleTimeoutMs: idleS * 1000, maxFlows },
    l7Hints: values['no-l7'] !== true,
    format: format,
    nats,
    logLevel: env.LOG_LEVEL ?? defaultLogLevel,
  };
}

export type ParsedCommand = ReadConfig | CaptureConfig | { command: 'help'; text: string };

export function parseReadArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ReadConfig | { command: 'help'; text: string } {
  const { values, positionals } = parse(args, readOptions, 'read');
  if (values.help) return { command: 'help', text: READ_HELP };
  if (positionals.length === 0) throw new UsageError('read: missing FILE (a pcap or pcapng capture)');
  if (positionals.length > 1) throw new UsageError(`read: expected one FILE, got ${positionals.length}: ${positionals.join(' ')}`);
  const e = readEnv(env);
  const speed = values.speed === undefined || values.speed === 'max'
    ? Infinity
    : numberFlag('speed', values.speed, z.number().positive().max(1e6), Infinity, "a positive number or 'max'");
  return { command: 'read', file: positionals[0], speed, shiftToNow: values['shift-to-now'] === true, ...common(values, e, 'warn', false) };
}

export function parseCaptureArgs(args: string[], env: NodeJS.ProcessEnv = process.env): CaptureConfig | { command: 'help'; text: string } {
  const { values, positionals } = parse(args, captureOptions, 'capture');
  if (values.help) return { command: 'help', text: CAPTURE_HELP };
  if (positionals.length > 0) throw new UsageError(`capture: unexpected argument ${JSON.stringify(positionals[0])}`);
  const e = readEnv(env);
  const c = common(values, e, 'info', true);
  return {
    command: 'capture',
    ...c,
    iface: values.interface,
    filter: values.filter,
    snapLen: numberFlag('snaplen', values.snaplen, z.number().int().min(64).max(65_535), 65_535, 'an integer from 64 to 65535'),
    promiscuous: values['no-promisc'] !== true,
    bufferBytes: numberFlag('buffer-mb', values['buffer-mb'], z.number().int().min(1).max(2047), 128, 'an integer from 1 to 2047') * 1024 * 1024,
    heartbeatIntervalMs: numberFlag('heartbeat-interval', values['heartbeat-interval'], z.number().min(0.1).max(3600), 5, 'seconds from 0.1 to 3600') * 1000,
  };
}

const COMMON_HELP = `
Flow options:
  --format ndjson|csv|none   output written to stdout when not publishing (default ndjson)
  --nats URL                 publish flows to NATS JetStream instead (e.g. nats://127.0.0.1:4222)
  --agent-id ID              agent identity (default: hostname; env NTA_AGENT_ID)
  --spool-dir DIR            where flows wait while NATS is unreachable (default var/spool/ID)
  --active-timeout S         report long flows every S seconds (default 60, 0 = never)
  --idle-timeout S           UDP/ICMP idle timeout (default 15)
  --max-flows N              concurrent flows kept before evicting the oldest (default 1048576)
  --no-l7                    skip DNS/HTTP/TLS hints
  -h, --help                 this help

Environment: NATS_URL, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NTA_AGENT_ID,
NTA_SPOOL_DIR, LOG_LEVEL.`;

export const MAIN_HELP = `Usage: nta-agent <command> [options]

Commands:
  read FILE      turn a pcap/pcapng capture into flows (stdout, or NATS with --nats)
  capture        capture live from an interface and publish flows

Run 'nta-agent <command> --help' for a command's options.`;

export const READ_HELP = `Usage: nta-agent read FILE [options]

Reads a pcap or pcapng file and writes one flow per line to stdout, or publishes the
flows with --nats. Ends with one JSON summary line on stderr.

Replay options:
  --speed N|max              pace packets at N times capture speed (default max: no pacing)
  --shift-to-now             stamp packets as if the capture started now (demos); without
                             it flows keep the capture's own times (forensic import)
${COMMON_HELP}`;

export const CAPTURE_HELP = `Usage: nta-agent capture [--interface IF] [--filter BPF] --nats URL [options]

Captures live (libpcap; needs root or CAP_NET_RAW) and publishes flows, per-second host
counters and heartbeats. Without --nats, writes flows to stdout.

Capture options:
  -i, --interface IF         interface (default: the first one up that is not loopback)
  -f, --filter BPF           capture filter, e.g. "not port 4222"
  --snaplen N                bytes captured per packet (default 65535)
  --no-promisc               not supported yet: cap 0.2.1 always opens promiscuous (refused)
  --buffer-mb N              kernel capture ring in MiB (default 128; raise it above ~80k packets/s)
  --heartbeat-interval S     seconds between heartbeats (default 5)
${COMMON_HELP}`;
