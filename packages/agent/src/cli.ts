#!/usr/bin/env -S node --max-semi-space-size=1
import { NtaError } from '@nta/shared';
import { runRead, stdoutOutput } from './commands/read.js';
import { MAIN_HELP, parseCaptureArgs, parseReadArgs } from './config.js';
import { AGENT_VERSION } from './version.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_HELP + '\n');
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`nta-agent ${AGENT_VERSION}\n`);
    return EXIT_OK;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  switch (command) {
    case 'read': {
      const config = parseReadArgs(rest);
      if (config.command === 'help') {
        process.stdout.write(config.text + '\n');
        return EXIT_OK;
      }
      const output = config.nats
        ? await (await import('./commands/publish-output.js')).natsOutput(config)
        : stdoutOutput(config);
      const summary = await runRead(config, output, () => stopping);
      process.stderr.write(JSON.stringify(summary) + '\n');
      return summary.error === undefined ? EXIT_OK : EXIT_FAILURE;
    }
    case 'capture': {
      const config = parseCaptureArgs(rest);
      if (config.command === 'help') {
        process.stdout.write(config.text + '\n');
        return EXIT_OK;
      }
      const { runCapture } = await import('./commands/capture.js');
      return runCapture(config, () => stopping);
    }
    default:
      throw new UsageErrorLike(`unknown command ${JSON.stringify(command)}; commands: read, capture`);
  }
}

class UsageErrorLike extends Error {}

// A closed stdout (`nta-agent read f | head`) ends the run quietly, as for other CLI tools.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT_OK);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageErrorLike || (err instanceof NtaError && err.code === 'NTA_ERR_USAGE')) {
      process.stderr.write(`nta-agent: ${(err as Error).message}\nRun 'nta-agent --help' for usage.\n`);
      process.exitCode = EXIT_USAGE;
    } else if (err instanceof NtaError) {
      process.stderr.write(`nta-agent: error: ${err.message}\n`);
      process.exitCode = EXIT_FAILURE;
    } else {
      // A bug, not bad input: keep the stack so it can be reported.
      process.stderr.write(`nta-agent: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    }
  },
);
