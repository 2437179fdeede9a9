#!/usr/bin/env node
/**
 * The system tools `npm test` needs besides Node and npm: Debian's Chromium for the end-to-end tests,
 * sox, ffprobe (ffmpeg) and exiftool, which check the WAV and PNG files Atelier writes, and openssl,
 * which makes the certificates of the TLS tests.
 *
 *   node scripts/system-tools.cjs check    exits 1 at once with one line naming what is missing
 *   node scripts/system-tools.cjs install  installs them (apt-get on Debian/Ubuntu; says what to do elsewhere)
 *
 * `npm test` runs the check first; `npm run setup:system` and .ci/run run the install.
 */
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TOOLS = [
  { name: 'chromium', apt: 'chromium', present: () => existsSync(chromium) },
  { name: 'sox', apt: 'sox', present: () => runs('soxi', ['-h']) },
  { name: 'ffprobe', apt: 'ffmpeg', present: () => runs('ffprobe', ['-version']) },
  { name: 'exiftool', apt: 'libimage-exiftool-perl', present: () => runs('exiftool', ['-ver']) },
  { name: 'openssl', apt: 'openssl', present: () => runs('openssl', ['version']) },
];

function runs(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 5000 });
  return result.error === undefined;
}

function missing() {
  return TOOLS.filter((tool) => !tool.present());
}

const action = process.argv[2];
if (action === 'check') {
  const lacking = missing();
  if (lacking.length > 0) {
    process.stderr.write(
      `npm test needs ${lacking.map((t) => t.name).join(', ')}, which ${lacking.length === 1 ? 'is' : 'are'} not installed: run \`npm run setup:system\` (on Debian/Ubuntu: apt-get install ${lacking.map((t) => t.apt).join(' ')}).\n`,
    );
    process.exit(1);
  }
} else if (action === 'install') {
  const lacking = missing();
  if (lacking.length === 0) process.exit(0);
  if (!existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`Install these with your system's package manager, then run npm test: ${lacking.map((t) => t.name).join(', ')} (Chromium at /usr/bin/chromium, or set CHROMIUM_PATH).\n`);
    process.exit(1);
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = root ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const [command, ...rest] = [...sudo, ...args];
    const result = spawnSync(command, rest, { stdio: 'inherit', env });
    if (result.status !== 0) process.exit(result.status ?? 1);
  };
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...lacking.map((t) => t.apt)]);
} else {
  process.stderr.write('Usage: node scripts/system-tools.cjs check|install\n');
  process.exit(2);
}
