import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The project (app) root: the nearest folder above `from` that holds Atelier's package.json and
 * resources/. The code runs from src/main/** under tsx and from out/main or out/main/chunks when
 * built (the bundler moves shared modules into chunks/), so a fixed "../.." is wrong somewhere.
 */
export function appRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'resources'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`Atelier could not find its installation folder (package.json and resources/) above ${from}; reinstall Atelier.`);
}

/**
 * The app's data folder, the same one Electron's app.getPath('userData') gives for "Atelier",
 * so the CLI, browser mode and the desktop app share one library by default.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.ATELIER_HOME) return path.resolve(env.ATELIER_HOME);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Atelier');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Atelier');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Atelier');
}

export interface DataLayout {
  dataDir: string;
  libraryDir: string;
  modelsDir: string;
  stagingDir: string;
}

/** Everything lives under one folder: the library (database + files), installed models, staging. */
export function dataLayout(dataDir: string): DataLayout {
  return {
    dataDir,
    libraryDir: path.join(dataDir, 'library'),
    modelsDir: path.join(dataDir, 'models'),
    stagingDir: path.join(dataDir, 'staging'),
  };
}
