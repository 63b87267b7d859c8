/**
 * Servers and temporary dirs a test helper made, taken down when the test process ends
 * (exit or a signal) even if a test never called cleanup(). One registry per helper, each
 * with the signal its servers want: nats-server SIGKILL, the postmaster SIGQUIT (it then
 * stops its backends and frees its shared memory itself).
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface ExitCleanup {
  readonly running: Set<ChildProcess>;
  readonly tempDirs: Set<string>;
  /** Other things to undo first (network namespaces, bridges), each run once. */
  readonly teardowns: Set<() => void>;
  /** Installs the exit and signal hooks (once). */
  install(): void;
}

export function exitCleanup(killSignal: NodeJS.Signals): ExitCleanup {
  const running = new Set<ChildProcess>();
  const tempDirs = new Set<string>();
  const teardowns = new Set<() => void>();
  let installed = false;
  const cleanAll = (): void => {
    for (const teardown of [...teardowns]) {
      try {
        teardown();
      } catch {
        // best effort at exit: the rest must still run
      }
    }
    teardowns.clear();
    for (const child of running) child.kill(killSignal);
    running.clear();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    tempDirs.clear();
  };
  return {
    running,
    tempDirs,
    teardowns,
    install() {
      if (installed) return;
      installed = true;
      process.on('exit', cleanAll);
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        const onSignal = (): void => {
          cleanAll();
          // Restore the default action when nobody else handles the signal.
          process.removeListener(signal, onSignal);
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        };
        process.on(signal, onSignal);
      }
    },
  };
}
