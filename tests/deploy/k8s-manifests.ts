/**
 * Kubernetes manifests rendered by `helm template`, checked the way an API server would:
 * - `kubernetes-models` validates each object against the Kubernetes OpenAPI schema (types,
 *   required fields, formats); its class is found from apiVersion and kind, so an unknown kind
 *   or API version is an error too;
 * - those schemas allow unknown fields, which the API server rejects (strict field validation)
 *   or drops silently: TypeScript's excess-property check against the same package's types
 *   reports them, at any depth (a misspelt `hostNetwrk` or `readinessProbe.httpGett`).
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Manifests are checked field by field in the tests; their shape is Kubernetes', not ours.
  [field: string]: unknown;
}

export interface ManifestProblem {
  manifest: string;
  problem: string;
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Splits `helm template` output into objects; a document that is not a Kubernetes object is an error. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // empty document (a disabled template)
    const m = value as Partial<Manifest>;
    if (typeof m.apiVersion !== 'string' || typeof m.kind !== 'string' || typeof m.metadata?.name !== 'string') {
      throw new Error(`rendered document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    }
    out.push(m as Manifest);
  }
  return out;
}

export function manifestId(m: Manifest): string {
  return `${m.kind}/${m.metadata.name}`;
}

/** `kubernetes-models` module of an apiVersion: "v1" -> v1, "apps/v1" -> apps/v1. */
function modelModule(m: Manifest): string {
  return `kubernetes-models/${m.apiVersion}/${m.kind}`;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Schema validation of every manifest; returns the problems (none when all are valid). */
export async function validateWithSchemas(manifests: Manifest[]): Promise<ManifestProblem[]> {
  const problems: ManifestProblem[] = [];
  for (const m of manifests) {
    let Model: ModelClass | undefined;
    try {
      const mod = (await import(modelModule(m))) as Record<string, unknown>;
      Model = mod[m.kind] as ModelClass | undefined;
    } catch {
      Model = undefined;
    }
    if (Model === undefined) {
      problems.push({ manifest: manifestId(m), problem: `no Kubernetes schema for ${m.apiVersion} ${m.kind}` });
      continue;
    }
    try {
      new Model(m).validate();
    } catch (err) {
      problems.push({ manifest: manifestId(m), problem: (err as Error).message });
    }
  }
  return problems;
}

/**
 * Unknown fields, found by type-checking each manifest as an object literal of its
 * kubernetes-models interface (one in-memory TypeScript program for all of them).
 */
export function findUnknownFields(manifests: Manifest[]): ManifestProblem[] {
  const files = new Map<string, { source: string; manifest: string }>();
  manifests.forEach((m, i) => {
    const fileName = join(REPO_ROOT, 'tests', 'deploy', `__manifest_${i}.ts`);
    const source = `import type { I${m.kind} } from '${modelModule(m)}';\nexport const manifest: I${m.kind} = ${JSON.stringify(m, null, 1)};\n`;
    files.set(fileName, { source, manifest: manifestId(m) });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f)?.source ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, onError, shouldCreate) => {
    const virtual = files.get(f);
    return virtual ? ts.createSourceFile(f, virtual.source, lang) : getSourceFile.call(host, f, lang, onError, shouldCreate);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const virtual = d.file ? files.get(d.file.fileName) : undefined;
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    let where = '';
    if (d.file && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      where = ` (near: ${d.file.text.split('\n')[line]?.trim()})`;
    }
    return { manifest: virtual?.manifest ?? d.file?.fileName ?? 'program', problem: `${text}${where}` };
  });
}
