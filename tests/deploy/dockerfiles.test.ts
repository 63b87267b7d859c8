/**
 * The collector and agent Dockerfiles: dockerfile-utils (the VS Code Docker language
 * server's validator) with every rule at error level, then what the images promise: a
 * multi-stage build from pinned bases, a non-root final user, copies that exist in the
 * repository and survive the ignore list, no baked-in secrets, the right entry points.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { copySources, execForm, isIgnored, parseDockerfile, type Instruction, type Stage } from './dockerfile-model.js';
import { DEPLOY_DIR, REPO_ROOT } from './tools.js';

const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const IMAGES = ['collector', 'agent'] as const;

function load(name: (typeof IMAGES)[number]) {
  const path = join(DEPLOY_DIR, 'docker', `${name}.Dockerfile`);
  const text = readFileSync(path, 'utf8');
  return { path, text, file: parseDockerfile(text), ignore: readFileSync(`${path}.dockerignore`, 'utf8') };
}

function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** Manifests and sources (anything under a src/ directory) below a directory, without dependencies or builds. */
function sourceFilesUnder(dir: string): string[] {
  return (readdirSync(join(REPO_ROOT, dir), { recursive: true }) as string[])
    .map((f) => `${dir}/${f}`)
    .filter((f) => !/\/(node_modules|dist)\//.test(f) && statSync(join(REPO_ROOT, f)).isFile())
    .filter((f) => /\/(package|tsconfig)\.json$/.test(f) || /\/src\//.test(f));
}

function runText(stage: Stage): string {
  return all(stage, 'RUN').map((i) => i.args).join('\n');
}

describe.each(IMAGES)('%s.Dockerfile', (name) => {
  const { text, file, ignore } = load(name);
  const final = file.stages.at(-1)!;
  const build = file.stages[0]!;

  it(`dockerfile ${name} - dockerfile-utils reports nothing, even with every rule at error level`, () => {
    const diagnostics = validate(text, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(diagnostics).toEqual([]);
  });

  it(`dockerfile ${name} - the validator is live: a broken copy is reported`, () => {
    const broken = text.replace('EXPOSE 8080', 'EXPOSE http').replace('HEALTHCHECK --interval=', 'HEALTHCHECK --intervall=').replace('WORKDIR /app', 'workdir app');
    expect(broken).not.toBe(text);
    expect(validate(broken, STRICT).length).toBeGreaterThan(0);
  });

  it(`dockerfile ${name} - multi-stage: built on node:20-bookworm, shipped on node:20-bookworm-slim`, () => {
    expect(file.stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe('build');
    expect(build.base).toBe('node:20-bookworm');
    expect(final.base).toBe('node:20-bookworm-slim');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string };
    expect(pkg.packageManager).toMatch(/^pnpm@/);
    // pnpm at the version package.json pins, read from it rather than repeated.
    expect(runText(build)).toContain(`npm install -g "$(node -p 'require("./package.json").packageManager')"`);
    expect(runText(build)).toMatch(/pnpm install --frozen-lockfile/);
    expect(runText(build)).toMatch(/pnpm run build/);
    expect(runText(build)).toMatch(new RegExp(`pnpm --filter @nta/${name} .*deploy --prod`));
    // The runtime stage gets the pruned copy only, never the build stage's node_modules.
    const fromBuild = all(final, 'COPY').filter((c) => c.flags.from === 'build');
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const c of fromBuild) expect(copySources(c).every((s) => s.startsWith('/out/'))).toBe(true);
  });

  it(`dockerfile ${name} - the final stage runs as a fixed non-root uid`, () => {
    const users = all(final, 'USER');
    expect(users.length).toBe(1);
    const [uid, gid] = users[0]!.args.split(':');
    expect(Number(uid)).toBeGreaterThan(999);
    expect(Number(gid)).toBeGreaterThan(999);
    expect(runText(final)).toContain(`useradd --system --uid ${uid}`);
    // Everything after USER runs unprivileged; nothing may need root there.
    const afterUser = final.instructions.slice(final.instructions.indexOf(users[0]!) + 1);
    expect(afterUser.map((i) => i.keyword)).not.toContain('RUN');
  });

  it(`dockerfile ${name} - every COPY --from names an earlier stage`, () => {
    file.stages.forEach((stage, index) => {
      const earlier = file.stages.slice(0, index).map((s) => s.name);
      for (const c of all(stage, 'COPY').filter((c) => c.flags.from !== undefined)) {
        expect(earlier, `line ${c.line}`).toContain(c.flags.from);
      }
    });
  });

  it(`dockerfile ${name} - what it copies from the context exists and is not ignored`, () => {
    const sources = file.stages.flatMap((s) => all(s, 'COPY').filter((c) => c.flags.from === undefined).flatMap(copySources));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(join(REPO_ROOT, src)), `${src} exists`).toBe(true);
      expect(isIgnored(src, ignore), `${src} reaches the build context`).toBe(false);
      // A directory: every source file and manifest in it reaches the context too.
      if (statSync(join(REPO_ROOT, src)).isDirectory()) {
        const files = sourceFilesUnder(src);
        expect(files.length, `source files under ${src}`).toBeGreaterThan(0);
        expect(files.filter((f) => isIgnored(f, ignore)), `files under ${src} left out of the context`).toEqual([]);
      }
    }
    // Local builds, dependencies, data and history stay out (a stale tsbuildinfo would make tsc skip emitting).
    for (const path of ['packages/agent/node_modules/cap/package.json', 'packages/collector/dist/cli.js', 'packages/shared/tsconfig.tsbuildinfo', 'node_modules/.pnpm/x', 'var/postgres/PG_VERSION', '.git/config', 'deploy/.env', 'tests/e2e/x.test.ts']) {
      expect(isIgnored(path, ignore), `${path} is kept out`).toBe(true);
    }
  });

  it(`dockerfile ${name} - no secret is baked in, and the OCI labels are set`, () => {
    for (const ins of file.stages.flatMap((s) => [...all(s, 'ENV'), ...all(s, 'ARG')])) {
      for (const m of ins.args.matchAll(/([A-Z_]*(?:PASSWORD|TOKEN|SECRET|API_KEY|CREDS)[A-Z_]*)=(\S*)/g)) {
        expect.fail(`line ${ins.line} sets ${m[1]} in the image`);
      }
    }
    const labels = all(final, 'LABEL').map((l) => l.args).join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'source']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });

  it(`dockerfile ${name} - the health check is valid JavaScript run by node (no curl in slim)`, () => {
    const checks = all(final, 'HEALTHCHECK');
    expect(checks.length).toBe(1);
    const cmd = execForm(checks[0]!.args)!;
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(() => new Function(cmd[2]!)).not.toThrow();
  });
});

describe('collector and agent specifics', () => {
  it('dockerfile collector - serves on 0.0.0.0:8080, checks /healthz, starts the built CLI', () => {
    const { file } = load('collector');
    const final = file.stages.at(-1)!;
    expect(all(final, 'EXPOSE').map((e) => e.args)).toEqual(['8080']);
    const env = all(final, 'ENV').map((e) => e.args).join(' ');
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    expect(env).toMatch(/PORT=8080/);
    expect(execForm(all(final, 'HEALTHCHECK')[0]!.args)![2]).toContain('/healthz');
    const cmd = execForm(all(final, 'CMD')[0]!.args)!;
    expect(cmd).toEqual(['node', 'packages/collector/dist/cli.js']);
    const bin = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages/collector/package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(`packages/collector/${bin['nta-collector']!.replace(/^\.\//, '')}`).toBe(cmd[1]);
    // The console's static files come along, where NTA_CONSOLE_DIR says.
    expect(env).toMatch(/NTA_CONSOLE_DIR=\/app\/packages\/dashboard\/dist/);
    expect(all(final, 'COPY').some((c) => c.args.endsWith('/app/packages/dashboard/dist'))).toBe(true);
  });

  it('dockerfile agent - libpcap at build and run time, capture capabilities on node, entry point runs capture', () => {
    const { file } = load('agent');
    const [build, final] = [file.stages[0]!, file.stages.at(-1)!];
    expect(runText(build)).toMatch(/apt-get install[^\n]*libpcap-dev python3 make g\+\+/);
    expect(runText(final)).toMatch(/apt-get install[^\n]*libpcap0\.8/);
    expect(runText(final)).toMatch(/setcap cap_net_raw,cap_net_admin\+ep /);
    expect(runText(final)).toMatch(/install -d -o 10001 -g 10001 .*\/var\/lib\/nta\/spool/);
    const entry = execForm(all(final, 'ENTRYPOINT')[0]!.args)!;
    const copied = all(final, 'COPY').find((c) => c.args.endsWith(` ${entry[0]}`));
    expect(copied, 'the entry point script is copied into the image').toBeDefined();
    const script = readFileSync(join(REPO_ROOT, copySources(copied!)[0]!), 'utf8');
    expect(script).toMatch(/exec node --max-semi-space-size=1 "\$\{NTA_AGENT_CLI:-\/app\/packages\/agent\/dist\/cli\.js\}" capture "\$@"/);
    expect(all(final, 'ENV').map((e) => e.args).join(' ')).toContain('NTA_SPOOL_DIR=/var/lib/nta/spool');
    expect(all(final, 'VOLUME').map((v) => v.args)).toEqual(['["/var/lib/nta"]']);
  });
});
