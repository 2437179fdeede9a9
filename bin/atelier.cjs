#!/usr/bin/env node
// The `atelier` command: the built CLI when present (npm run build), else the TypeScript source via tsx.
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const built = path.join(__dirname, '..', 'out', 'main', 'cli.js');
if (fs.existsSync(built)) {
  require(built);
} else {
  const source = path.join(__dirname, '..', 'src', 'main', 'cli', 'index.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', source, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
