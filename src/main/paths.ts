import os from 'node:os';
import path from 'node:path';

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
