/**
 * deploy/helm/nta with the real helm binary: lint, values.schema.json refusing bad values,
 * and `helm template` for the value sets operators use, each manifest checked against the
 * Kubernetes schemas and for unknown fields, then read for what matters: the agents' host
 * network, capabilities and tolerations, probes, and a Secret that is really used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentConfig, startThroughEntrypoint } from './agent-start.js';
import { findUnknownFields, manifestId, parseManifests, validateWithSchemas, type Manifest } from './k8s-manifests.js';
import { cleanEnv, DEPLOY_DIR, requireTool, run } from './tools.js';

const CHART = join(DEPLOY_DIR, 'helm', 'nta');
const NAMESPACE = 'netmon';
const scratch = mkdtempSync(join(tmpdir(), 'nta-helm-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The value sets an operator would use; each is rendered and checked in full. */
const VALUE_SETS: Record<string, string[]> = {
  bundled: [],
  external: [
    '--set', 'nats.mode=external', '--set', 'nats.url=nats://nats-0.infra:4222\\,nats://nats-1.infra:4222',
    '--set', 'nats.auth.user=nta', '--set', 'nats.auth.password=n4ts-pw',
    '--set', 'database.mode=external', '--set', 'database.url=postgres://nta:pg-pw@pg.infra:5432/nta',
    '--set', 'threatIntel.abuseipdbApiKey=abuse-key',
  ],
  ingress: ['--set', 'ingress.enabled=true', '--set', 'ingress.className=nginx', '--set', 'ingress.host=nta.corp.example', '--set', 'ingress.tls.enabled=true', '--set', 'ingress.tls.secretName=nta-tls'],
  existingSecret: ['--set', 'existingSecret=nta-operator-secret'],
  agentDisabled: ['--set', 'agent.enabled=false'],
  agentTuned: ['--set', 'agent.interface=ens5', '--set', 'agent.filter=not port 22', '--set', 'agent.extraArgs={--buffer-mb,256}', '--set', 'agent.spool.hostPath='],
};

function helm(args: string[]) {
  return run(requireTool('helm'), args, { env: cleanEnv({ HELM_CACHE_HOME: join(scratch, 'cache'), HELM_CONFIG_HOME: join(scratch, 'config'), HELM_DATA_HOME: join(scratch, 'data') }) });
}

function template(args: string[]): ReturnType<typeof helm> {
  return helm(['template', 'nta', CHART, '--namespace', NAMESPACE, ...args]);
}

const renderedCache = new Map<string, Manifest[]>();

/** `helm template` of a value set, rendered once; each test that needs it fails on its own if helm is missing. */
function rendered(set: string): Manifest[] {
  let manifests = renderedCache.get(set);
  if (manifests === undefined) {
    const r = template(VALUE_SETS[set]!);
    if (r.code !== 0) throw new Error(`helm template (${set}) failed: ${r.stderr}`);
    manifests = parseManifests(r.stdout);
    renderedCache.set(set, manifests);
  }
  return manifests;
}

function renderedAll(): [string, Manifest[]][] {
  return Object.keys(VALUE_SETS).map((set) => [set, rendered(set)]);
}

function find(set: string, kind: string, name: string): Manifest {
  const m = rendered(set).find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`${set}: no ${kind}/${name} among ${rendered(set).map(manifestId).join(', ')}`);
  return m;
}

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string }; exec?: { command: string[] } };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  hostNetwork?: boolean;
  dnsPolicy?: string;
  tolerations?: Record<string, string>[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string }; emptyDir?: object; configMap?: { name: string } }[];
}
const podSpec = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;
const secretData = (m: Manifest) => Object.fromEntries(Object.entries((m.data as Record<string, string>) ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('helm chart nta', () => {
  it('helm - lint --strict passes for every value set', () => {
    for (const [name, args] of Object.entries(VALUE_SETS)) {
      const r = helm(['lint', '--strict', CHART, ...args]);
      expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('helm - every rendered manifest is valid against the Kubernetes schemas', async () => {
    for (const [name, manifests] of renderedAll()) {
      expect(await validateWithSchemas(manifests), name).toEqual([]);
    }
  });

  it('helm - no rendered manifest has a field Kubernetes does not know', () => {
    expect(findUnknownFields(renderedAll().flatMap(([, m]) => m))).toEqual([]);
  });

  it('helm - values.schema.json refuses bad values with the path of the value', () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'nats.mode=extrenal'], /\/nats\/mode/],
      [['--set', 'collector.replcas=2'], /replcas/],
      [['--set', 'nats.mode=external'], /\/nats\/url/],
      [['--set', 'database.mode=external'], /\/database\/url/],
      [['--set', 'database.bundled.image.tag=latest'], /\/database\/bundled\/image\/tag/],
      [['--set', 'agent.interface=eth0;reboot'], /\/agent\/interface/],
      [['--set', 'collector.config.DATABASE_URL=postgres://x'], /\/collector\/config/],
    ];
    for (const [args, message] of cases) {
      const r = template(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('helm - defaults bundle NATS and TimescaleDB as StatefulSets with volumes', () => {
    const kinds = rendered('bundled').map(manifestId).sort();
    expect(kinds).toEqual([
      'ConfigMap/nta-collector', 'ConfigMap/nta-nats', 'DaemonSet/nta-agent', 'Deployment/nta-collector', 'Secret/nta-secrets',
      'Service/nta-collector', 'Service/nta-nats', 'Service/nta-nats-headless', 'Service/nta-timescaledb',
      'StatefulSet/nta-nats', 'StatefulSet/nta-timescaledb',
    ]);
    for (const name of ['nta-nats', 'nta-timescaledb']) {
      const claims = (find('bundled', 'StatefulSet', name).spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates;
      expect(claims.map((c) => c.metadata.name)).toEqual(['data']);
    }
  });

  it('helm - the agent DaemonSet: host network, capture capabilities only, every node, stable ids', () => {
    const spec = podSpec(find('bundled', 'DaemonSet', 'nta-agent'));
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    const agent = spec.containers[0]!;
    expect(agent.securityContext!.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] });
    // File capabilities on node need no_new_privs off.
    expect(agent.securityContext!.allowPrivilegeEscalation).toBe(true);
    expect(agent.env!.find((e) => e.name === 'NTA_NODE_NAME')!.valueFrom!.fieldRef!.fieldPath).toBe('spec.nodeName');
    expect(spec.volumes!.find((v) => v.name === 'spool')!.hostPath!.path).toBe('/var/lib/nta-agent');
    expect(spec.initContainers![0]!.securityContext!.capabilities).toEqual({ drop: ['ALL'], add: ['CHOWN'] });
    const probe = agent.livenessProbe!.exec!.command;
    expect(probe.slice(0, 2)).toEqual(['node', '-e']);
    expect(() => new Function(probe[2]!)).not.toThrow();
  });

  it('helm - the agent starts with a valid configuration: NATS, token, node-name id, interface, flags', () => {
    for (const set of ['bundled', 'agentTuned']) {
      const agent = podSpec(find(set, 'DaemonSet', 'nta-agent')).containers[0]!;
      const secret = secretData(find(set, 'Secret', 'nta-secrets'));
      const env: Record<string, string> = {};
      for (const e of agent.env!) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.fieldRef) env[e.name] = 'ip-10-0-1-7.eu-west-1.compute.internal';
        else if (e.valueFrom?.secretKeyRef && secret[e.valueFrom.secretKeyRef.key] !== undefined) env[e.name] = secret[e.valueFrom.secretKeyRef.key]!;
      }
      const config = agentConfig(startThroughEntrypoint(env, agent.args ?? []));
      expect(config.agentId).toBe('ip-10-0-1-7-eu-west-1-compute-internal');
      expect(config.nats).toMatchObject({ url: `nats://nta-nats.${NAMESPACE}.svc:4222`, token: secret.NATS_TOKEN, spoolDir: '/var/lib/nta/spool' });
      if (set === 'agentTuned') {
        expect(config).toMatchObject({ iface: 'ens5', filter: 'not port 22', bufferBytes: 256 * 1024 * 1024 });
      } else {
        expect(config.iface).toBeUndefined(); // the agent picks the default-route interface
      }
    }
    expect(podSpec(find('agentTuned', 'DaemonSet', 'nta-agent')).volumes!.find((v) => v.name === 'spool')!.emptyDir).toEqual({});
  });

  it('helm - the collector: non-root, read-only, ready on /healthz, config from the ConfigMap', () => {
    const spec = podSpec(find('bundled', 'Deployment', 'nta-collector'));
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    const c = spec.containers[0]!;
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // Liveness must not restart the collector while it waits out a database outage.
    expect(c.livenessProbe!.httpGet!.path).not.toBe('/healthz');
    expect(c.resources!.requests).toBeDefined();
    expect(c.resources!.limits!.memory).toBeDefined();
    const configMap = find('bundled', 'ConfigMap', c.envFrom![0]!.configMapRef!.name);
    expect(configMap.data).toMatchObject({ NATS_URL: `nats://nta-nats.${NAMESPACE}.svc:4222`, HOST: '0.0.0.0', PORT: '8080', LOG_LEVEL: 'info' });
    const service = find('bundled', 'Service', 'nta-collector');
    expect((service.spec as { selector: Record<string, string> }).selector).toEqual(
      Object.fromEntries(Object.entries((find('bundled', 'Deployment', 'nta-collector').spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)),
    );
  });

  it('helm - every secret reference points at a rendered Secret key, and the database URL matches the bundled server', () => {
    for (const set of ['bundled', 'external', 'ingress', 'agentDisabled', 'agentTuned']) {
      const secret = find(set, 'Secret', 'nta-secrets');
      const data = secretData(secret);
      for (const m of rendered(set).filter((x) => x.kind === 'Deployment' || x.kind === 'DaemonSet' || x.kind === 'StatefulSet')) {
        for (const env of podSpec(m).containers.flatMap((c) => c.env ?? [])) {
          const ref = env.valueFrom?.secretKeyRef;
          if (!ref) continue;
          expect(ref.name, `${set} ${manifestId(m)} ${env.name}`).toBe('nta-secrets');
          if (!ref.optional) expect(data, `${set} ${manifestId(m)} needs ${ref.key}`).toHaveProperty(ref.key);
        }
      }
    }
    const bundled = secretData(find('bundled', 'Secret', 'nta-secrets'));
    expect(bundled.DATABASE_URL).toBe(`postgres://postgres:${bundled.POSTGRES_PASSWORD}@nta-timescaledb:5432/nta`);
    expect(bundled.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(bundled.NATS_TOKEN).toMatch(/^[A-Za-z0-9]{32}$/);
    const external = secretData(find('external', 'Secret', 'nta-secrets'));
    expect(external).toEqual({ DATABASE_URL: 'postgres://nta:pg-pw@pg.infra:5432/nta', NATS_USER: 'nta', NATS_PASSWORD: 'n4ts-pw', ABUSEIPDB_API_KEY: 'abuse-key' });
  });

  it('helm - external services: no StatefulSets, the given URLs everywhere', () => {
    expect(rendered('external').filter((m) => m.kind === 'StatefulSet')).toEqual([]);
    expect(find('external', 'ConfigMap', 'nta-collector').data).toMatchObject({ NATS_URL: 'nats://nats-0.infra:4222,nats://nats-1.infra:4222' });
    const agentEnv = podSpec(find('external', 'DaemonSet', 'nta-agent')).containers[0]!.env!;
    expect(agentEnv.find((e) => e.name === 'NATS_URL')!.value).toBe('nats://nats-0.infra:4222,nats://nats-1.infra:4222');
  });

  it('helm - existingSecret: no Secret rendered, every reference goes to the operator’s', () => {
    expect(rendered('existingSecret').filter((m) => m.kind === 'Secret')).toEqual([]);
    const refs = rendered('existingSecret').filter((m) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(m.kind))
      .flatMap((m) => podSpec(m).containers.flatMap((c) => c.env ?? []))
      .flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []));
    expect(refs.length).toBeGreaterThan(0);
    expect(new Set(refs)).toEqual(new Set(['nta-operator-secret']));
  });

  it('helm - ingress routes the host to the collector Service, with TLS', () => {
    const ingress = find('ingress', 'Ingress', 'nta');
    const spec = ingress.spec as { ingressClassName: string; tls: { hosts: string[]; secretName: string }[]; rules: { host: string; http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[] };
    expect(spec.ingressClassName).toBe('nginx');
    expect(spec.tls).toEqual([{ hosts: ['nta.corp.example'], secretName: 'nta-tls' }]);
    expect(spec.rules[0]!.host).toBe('nta.corp.example');
    expect(spec.rules[0]!.http.paths[0]!.backend.service).toEqual({ name: 'nta-collector', port: { name: 'http' } });
    expect(rendered('bundled').some((m) => m.kind === 'Ingress')).toBe(false);
  });

  it('helm - agent.enabled=false leaves the agents out and nothing else', () => {
    const without = rendered('agentDisabled').map(manifestId).sort();
    const withAgents = rendered('bundled').map(manifestId).filter((id) => id !== 'DaemonSet/nta-agent').sort();
    expect(without).toEqual(withAgents);
  });

  it('helm - the bundled NATS configuration is accepted by nats-server, with the token from the environment', () => {
    const conf = (find('bundled', 'ConfigMap', 'nta-nats').data as Record<string, string>)['nats.conf']!;
    const path = join(scratch, 'nats.conf');
    writeFileSync(path, conf.replace('/data', join(scratch, 'jetstream')));
    const natsServer = requireTool('nats-server');
    const ok = run(natsServer, ['-c', path, '-t'], { env: cleanEnv({ NATS_TOKEN: 'x'.repeat(32) }) });
    expect(ok.code, ok.stderr).toBe(0);
    // Without the variable the reference cannot resolve: proves the token is read from the environment.
    const missing = run(natsServer, ['-c', path, '-t'], { env: cleanEnv() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr + missing.stdout).toMatch(/NATS_TOKEN/);
    expect(conf).toMatch(/jetstream \{/);
  });
});
