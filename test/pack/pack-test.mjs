#!/usr/bin/env node
/**
 * The packages as a user gets them. Packs @onnxvae/core, /node and /web (`npm pack`), checks what each tarball holds
 * (LICENSE, README, the package.json fields, no tests, every source map's sources), installs the three tarballs into
 * a fresh project in a temporary folder outside the repository (`npm install`, from the registry or its cache), and
 * there, against the installed packages and their .d.ts only:
 *
 * - type-checks (tsc, skipLibCheck off) and runs the TypeScript examples of packages/core/README.md and
 *   packages/node/README.md (the blocks marked `<!-- pack-test: … -->`): the node one trains one epoch on 512 digits;
 * - copies examples/vite there, type-checks it, builds it with `vite build`, checks the build (page, script, the
 *   WASM runtime under ort/), serves it with `vite preview` and opens it in headless Chromium (skipped with a warning
 *   when /usr/bin/chromium is missing), where the packed @onnxvae/web decodes samples of the model the node example
 *   trained; the pixels must match onnxruntime-node's for the same z.
 *
 * Run by .ci/run after the build: `node test/pack/pack-test.mjs [--keep]` (--keep leaves the folder and says where).
 * About 1 minute on the 2-core machine with a warm npm cache.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExample, CHROMIUM, checkDist, maxAbsDiff, nodeDecode, openBuilt } from './vite-example.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGES = ['core', 'node', 'web'];
const keep = process.argv.includes('--keep');
const started = Date.now();
const say = (line) => console.log(`pack-test [${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
const problems = [];

function run(cmd, args, cwd, opts = {}) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with exit ${e.status}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The code block under `<!-- pack-test: NAME … -->` in a README. */
function readmeExample(readme, name) {
  const text = readFileSync(readme, 'utf8');
  const m = text.match(new RegExp(`<!-- pack-test: ${name.replace('.', '\\.')}[^>]*-->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``));
  if (!m) throw new Error(`${readme} has no \`<!-- pack-test: ${name} -->\` block followed by a ts code block`);
  return m[1];
}

/** Checks one unpacked tarball (folder `dir`, npm's `package/`). */
function checkPackage(name, dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const files = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (lstatSync(p).isDirectory()) walk(p);
      else files.push(posix.relative(dir, p));
    }
  };
  walk(dir);
  const has = new Set(files);
  for (const f of ['LICENSE', 'README.md', 'package.json']) if (!has.has(f)) problems.push(`${name}: no ${f} in the tarball`);
  if (pkg.license !== 'MIT') problems.push(`${name}: license is ${pkg.license}, not MIT`);
  if (has.has('LICENSE') && !readFileSync(join(dir, 'LICENSE'), 'utf8').startsWith('MIT License'))
    problems.push(`${name}: LICENSE is not MIT`);
  for (const field of ['repository', 'homepage', 'keywords', 'engines', 'description', 'exports', 'types'])
    if (pkg[field] === undefined) problems.push(`${name}: package.json has no "${field}"`);
  const tests = files.filter((f) => /\.test\.(ts|js|d\.ts)$/.test(f));
  if (tests.length) problems.push(`${name}: ships tests: ${tests.slice(0, 5).join(', ')}`);
  // Every source map (.js.map and .d.ts.map) must point at sources the tarball holds, or carry them inline.
  let maps = 0;
  for (const f of files.filter((x) => x.endsWith('.map'))) {
    maps++;
    const map = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    map.sources.forEach((s, i) => {
      if (map.sourcesContent?.[i] != null) return;
      const target = posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', s));
      if (!has.has(target)) problems.push(`${name}: ${f} maps to ${target}, which the tarball lacks`);
    });
  }
  // Every entry point the exports name is in the tarball.
  for (const [sub, conds] of Object.entries(pkg.exports ?? {}))
    for (const target of Object.values(conds))
      if (!has.has(posix.normalize(target))) problems.push(`${name}: exports["${sub}"] names ${target}, which the tarball lacks`);
  return { files: files.length, maps };
}

/**
 * tsc -p `project` in app, with the installed packages' .d.ts checked too (skipLibCheck off). Errors in the examples
 * or in @onnxvae's .d.ts fail; errors inside other packages' .d.ts are theirs (onnxruntime-common's types need the
 * DOM lib, onnx-proto's a global Long): counted, and a user's usual skipLibCheck hides them.
 */
function typecheck(app, project, extra = []) {
  let out = '';
  try {
    out = execFileSync(join(app, 'node_modules/.bin/tsc'), ['-p', project, ...extra], { cwd: app, encoding: 'utf8' });
  } catch (e) {
    out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
  const theirs = errors.filter((l) => l.startsWith('node_modules/') && !l.startsWith('node_modules/@onnxvae/'));
  const ours = errors.filter((l) => !theirs.includes(l));
  if (ours.length) problems.push(`tsc -p ${project}:\n  ${ours.join('\n  ')}`);
  if (theirs.length) say(`tsc -p ${project}: ${theirs.length} errors inside other packages' .d.ts (ignored)`);
}

const tmp = mkdtempSync(join(tmpdir(), 'onnxvae-pack-'));
for (const d of ['/node_modules', join(tmpdir(), 'node_modules')])
  if (existsSync(d)) throw new Error(`${d} exists: packages there would be found from ${tmp}; the test needs a clean install`);
try {
  // 1. Pack.
  for (const p of PACKAGES)
    if (!existsSync(join(ROOT, 'packages', p, 'dist/index.js'))) throw new Error(`packages/${p} is not built: run npm run build first`);
  const tarballs = join(tmp, 'tarballs');
  mkdirSync(tarballs);
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', tarballs, ...PACKAGES.flatMap((p) => ['--workspace', `packages/${p}`])], ROOT),
  );
  const tgz = Object.fromEntries(packed.map((p) => [p.name, join(tarballs, p.filename)]));
  say(`packed ${packed.map((p) => `${p.name} (${(p.size / 1024).toFixed(0)} kB, ${p.entryCount} files)`).join(', ')}`);

  // 2. What each tarball holds.
  for (const [name, file] of Object.entries(tgz)) {
    const dir = join(tmp, 'unpacked', name);
    mkdirSync(dir, { recursive: true });
    run('tar', ['-xzf', file, '-C', dir, '--strip-components=1'], tmp);
    const { files, maps } = checkPackage(name, dir);
    say(`${name}: ${files} files, ${maps} source maps checked`);
  }

  // 3. A fresh project: the Vite example's files, the README examples, and the tarballs as its dependencies.
  const app = join(tmp, 'app');
  mkdirSync(join(app, 'node'), { recursive: true });
  for (const f of ['index.html', 'main.ts', 'vite.config.ts', 'tsconfig.json']) cpSync(join(ROOT, 'examples/vite', f), join(app, f));
  const rootRequire = createRequire(join(ROOT, 'package.json'));
  const installed = (name) => JSON.parse(readFileSync(rootRequire.resolve(`${name}/package.json`), 'utf8')).version;
  const example = JSON.parse(readFileSync(join(ROOT, 'examples/vite/package.json'), 'utf8'));
  const pkg = {
    ...example,
    dependencies: {
      ...example.dependencies,
      '@onnxvae/core': `file:${tgz['@onnxvae/core']}`,
      '@onnxvae/node': `file:${tgz['@onnxvae/node']}`,
      '@onnxvae/web': `file:${tgz['@onnxvae/web']}`,
    },
    // The versions the repository uses, so a warm npm cache answers.
    devDependencies: { typescript: installed('typescript'), vite: installed('vite'), '@types/node': installed('@types/node') },
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // As the repository's .npmrc: onnxruntime-node's install script would download the CUDA provider from outside npm.
  writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
  writeFileSync(join(app, 'node/core-example.ts'), readmeExample(join(ROOT, 'packages/core/README.md'), 'core-example.ts'));
  writeFileSync(join(app, 'node/node-example.ts'), readmeExample(join(ROOT, 'packages/node/README.md'), 'node-example.ts'));
  writeFileSync(
    join(app, 'tsconfig.node.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022'],
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          outDir: 'build',
          rootDir: 'node',
        },
        include: ['node'],
      },
      null,
      2,
    )}\n`,
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
  for (const name of Object.keys(tgz)) {
    const dir = join(app, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json')) || lstatSync(dir).isSymbolicLink())
      problems.push(`${name} is not installed as a copy in ${app}/node_modules`);
  }
  const version = run(join(app, 'node_modules/.bin/onnxvae'), ['--version'], app).trim();
  if (!version.includes(JSON.parse(readFileSync(join(ROOT, 'packages/node/package.json'), 'utf8')).version))
    problems.push(`the installed onnxvae --version printed ${JSON.stringify(version)}`);
  say(`installed the tarballs into a fresh project (onnxvae --version: ${version})`);

  // 4. The README examples: type-checked against the installed .d.ts (compiled by tsc), then run.
  typecheck(app, 'tsconfig.node.json');
  say('tsc: the core and node README examples type-check against the installed packages');
  const core = run(process.execPath, ['build/core-example.js'], app);
  if (!/^loss \d/.test(core)) problems.push(`core-example printed ${JSON.stringify(core)}`);
  const trained = run(process.execPath, ['build/node-example.js'], app);
  if (!/^epoch 1: train ELBO -\d/m.test(trained) || !/4 samples of 784 pixels/.test(trained))
    problems.push(`node-example printed ${JSON.stringify(trained)}`);
  if (!existsSync(join(app, 'runs/tiny/decoder.onnx'))) problems.push('node-example wrote no runs/tiny/decoder.onnx');
  say(`ran both examples: ${core.trim()} | ${trained.trim().replaceAll('\n', ' | ')}`);

  // 5. The Vite example on the packed @onnxvae/web.
  typecheck(app, 'tsconfig.json', ['--skipLibCheck', 'false']);
  buildExample(app, join(app, 'dist'));
  problems.push(...checkDist(app, join(app, 'dist')).map((p) => `vite build: ${p}`));
  say('tsc + vite build: the Vite example builds against the packed @onnxvae/web');
  if (!existsSync(CHROMIUM)) console.warn(`pack-test: browser check skipped, ${CHROMIUM} is missing (.ci/run installs it)`);
  else if (existsSync(join(app, 'runs/tiny/decoder.onnx'))) {
    const { headers, result, logs } = await openBuilt(app, join(app, 'dist'), join(app, 'runs/tiny'), 'provider=wasm&threads=2');
    if (result.error) problems.push(`the page failed: ${result.error}\n${logs.join('\n')}`);
    else {
      if (headers.coop !== 'same-origin' || headers.coep !== 'require-corp') problems.push(`vite preview sent ${JSON.stringify(headers)}`);
      if (!result.crossOriginIsolated || result.numThreads !== 2) problems.push(`WASM threads are off: ${JSON.stringify(result)}`);
      const ref = await nodeDecode(join(app, 'runs/tiny/decoder.onnx'), result.z, 16);
      const diff = maxAbsDiff(ref, result.x);
      if (!(diff < 1e-4)) problems.push(`the page's pixels differ from onnxruntime-node's by ${diff}`);
      say(
        `chromium: the packed @onnxvae/web decoded 16 samples on ${result.provider} (${result.numThreads} threads), max |Δ| ${diff.toExponential(1)} vs node`,
      );
    }
  }
} finally {
  if (keep) console.log(`pack-test: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`pack-test: ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
say('ok');
