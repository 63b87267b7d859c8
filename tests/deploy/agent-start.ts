/**
 * What the agent actually receives when a deployment starts it: the image's entry point
 * (deploy/docker/agent-entrypoint.sh) runs with a deployment's environment and arguments, with
 * node pointed at a recorder instead of the agent; the recorded command line and environment
 * then go through the agent's own argument parser, which accepts or refuses them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCaptureArgs, type CaptureConfig } from '../../packages/agent/src/config.js';
import { cleanEnv, DEPLOY_DIR, run } from './tools.js';

export const ENTRYPOINT = join(DEPLOY_DIR, 'docker', 'agent-entrypoint.sh');

export interface AgentStart {
  /** Arguments after the agent's script: ['capture', ...]. */
  argv: string[];
  env: Record<string, string>;
}

let recorder: string | undefined;

function recorderScript(): string {
  if (recorder === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'nta-agent-start-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    recorder = join(dir, 'record.mjs');
    writeFileSync(recorder, 'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: process.env }));\n');
  }
  return recorder;
}

/** Runs the entry point as the container would, returning what it hands to the agent. */
export function startThroughEntrypoint(env: Record<string, string>, args: string[] = []): AgentStart {
  const r = run('sh', [ENTRYPOINT, ...args], { env: cleanEnv({ ...env, NTA_AGENT_CLI: recorderScript() }) });
  if (r.code !== 0) throw new Error(`entry point failed (${r.code}): ${r.stderr}`);
  const recorded = JSON.parse(r.stdout) as AgentStart;
  const { NTA_AGENT_CLI: _cli, ...rest } = recorded.env;
  return { argv: recorded.argv, env: rest };
}

/** The agent's verdict on a start: its parsed capture configuration (throws on a refusal). */
export function agentConfig(start: AgentStart): CaptureConfig {
  const [command, ...args] = start.argv;
  if (command !== 'capture') throw new Error(`the agent is started with ${JSON.stringify(command)}, not capture`);
  const parsed = parseCaptureArgs(args, start.env);
  if (parsed.command !== 'capture') throw new Error('the start asks for help instead of capturing');
  return parsed;
}
