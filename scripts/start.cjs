#!/usr/bin/env node
// `npm start`: build and open the real Electron app. Electron 45 downloads its binary on first use;
// better-sqlite3 needs a build for Electron's ABI, kept apart from the Node build the tests use.
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dev = process.argv.includes('--dev');
const nativeDir = path.join(root, '.cache', 'electron-native');
const nativeBinary = path.join(nativeDir, 'better_sqlite3.node');

function fail(message) {
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}

function electronBinary() {
  // The first require downloads the binary (needs internet once). It runs in a child process so an
  // offline failure becomes one plain message here instead of the downloader's stack trace.
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout && fs.existsSync(probe.stdout)) return probe.stdout;
  const reason = (probe.stderr || '').split('\n').find((line) => /failed|error/i.test(line)) || 'unknown reason';
  fail(
    [
      'Atelier could not start Electron: its binary is not installed and could not be downloaded',
      `(${reason.trim()}).`,
      '',
      'You are probably offline. Browser mode needs no Electron:',
      '  npm run serve      then open the printed http://127.0.0.1 link',
    ].join('\n'),
  );
}

function electronVersion() {
  return require(path.join(root, 'node_modules', 'electron', 'package.json')).version;
}

function ensureElectronSqlite() {
  const stamp = path.join(nativeDir, 'electron-version.txt');
  const version = electronVersion();
  if (fs.existsSync(nativeBinary) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === version) return;
  process.stderr.write(`Building better-sqlite3 for Electron ${version} (once, about two minutes)…\n`);
  const work = path.join(nativeDir, 'src');
  fs.rmSync(work, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'node_modules', 'better-sqlite3'), work, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) && !p.endsWith(`${path.sep}build`) });
  const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  const result = spawnSync(process.execPath, [gyp, 'rebuild', '--release', `--target=${version}`, `--arch=${process.arch}`, '--dist-url=https://electronjs.org/headers'], { cwd: work, stdio: 'inherit' });
  if (result.status !== 0) fail('Building better-sqlite3 for Electron failed (it needs internet once for the Electron headers and a C++ toolchain). Browser mode still works: npm run serve');
  fs.copyFileSync(path.join(work, 'build', 'Release', 'better_sqlite3.node'), nativeBinary);
  fs.writeFileSync(stamp, version);
}

const binary = electronBinary();
ensureElectronSqlite();
const vite = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
if (dev) {
  const child = spawn(process.execPath, [vite, 'dev'], { cwd: root, stdio: 'inherit', env: { ...process.env, ELECTRON_EXEC_PATH: binary } });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const build = spawnSync(process.execPath, [vite, 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const child = spawn(binary, [root], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
