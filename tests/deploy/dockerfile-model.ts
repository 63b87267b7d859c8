/**
 * Just enough of a Dockerfile reader for the deploy tests' assertions (stages, their
 * instructions and flags), and of Docker's ignore-file rules to tell whether a path reaches the
 * build context. The syntax itself is checked by dockerfile-utils, not here.
 */

export interface Instruction {
  keyword: string;
  /** `--from=build` -> from: 'build' */
  flags: Record<string, string>;
  /** Everything after the flags, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  /** Base image with global ARG defaults substituted. */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (current === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current !== undefined && trimmed.startsWith('#')) return; // comment inside a continuation
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1) : trimmed;
    current = current ? { text: `${current.text} ${part}`, line: current.line } : { text: part, line: i + 1 };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*(.*)$/.exec(text)!;
  const keyword = m[1]!.toUpperCase();
  let rest = m[2]!;
  const flags: Record<string, string> = {};
  for (;;) {
    const f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!f) break;
    flags[f[1]!] = f[2] ?? 'true';
    rest = rest.slice(f[0].length);
  }
  return { keyword, flags, args: rest.trim(), line };
}

function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name: string) => vars[name] ?? all);
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const { text: l, line } of logicalLines(text)) {
    const ins = parseInstruction(l, line);
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, base: substitute(image!, globalArgs), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [k, v] = ins.args.split('=');
        globalArgs[k!] = (v ?? '').replace(/^"|"$/g, '');
      }
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** Exec-form (JSON array) arguments of CMD/ENTRYPOINT/HEALTHCHECK CMD, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const json = args.replace(/^CMD\s+/, '');
  if (!json.startsWith('[')) return undefined;
  return JSON.parse(json) as string[];
}

/** Sources of a COPY/ADD (all words but the last, JSON form accepted). */
export function copySources(ins: Instruction): string[] {
  const words = ins.args.startsWith('[') ? (JSON.parse(ins.args) as string[]) : ins.args.split(/\s+/);
  return words.slice(0, -1);
}

function patternToRegExp(pattern: string): RegExp {
  let re = '';
  const p = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
      if (p[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // `dir/**` also matches dir itself (** is zero or more path segments).
  if (re.endsWith('/.*')) re = `${re.slice(0, -3)}(/.*)?`;
  return new RegExp(`^${re}$`);
}

/**
 * Whether a context-relative path is excluded by a .dockerignore: the last pattern that matches
 * the path or one of its parent directories decides, `!` patterns re-include.
 */
export function isIgnored(path: string, ignoreFile: string): boolean {
  const rules = ignoreFile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ exclude: !l.startsWith('!'), re: patternToRegExp(l.replace(/^!/, '')) }));
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.re.test(p))) ignored = rule.exclude;
  }
  return ignored;
}
