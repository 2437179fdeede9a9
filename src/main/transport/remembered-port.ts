import { promises as fs } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

/**
 * Browser mode's origin is http://127.0.0.1:<port>, and the page's storage belongs to the origin:
 * a new random port on every start is a new, empty localStorage (panel sizes, …). So a library
 * remembers the port its browser mode last listened on and asks for it again.
 */
export const PORT_FILE_NAME = 'browser-port.json';

export async function readRememberedPort(file: string): Promise<number | null> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    const port = typeof parsed === 'object' && parsed !== null ? (parsed as { port?: unknown }).port : undefined;
    return typeof port === 'number' && Number.isInteger(port) && port >= 1024 && port <= 65535 ? port : null;
  } catch {
    return null;
  }
}

export async function rememberPort(file: string, port: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify({ port })}\n`);
  await fs.rename(temporary, file);
}

function listenOnce(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export interface ListenOutcome {
  /** Set when the remembered port was taken and another was used for this run (the memory is kept). */
  rememberedPortTaken: number | null;
}

/**
 * Listens on `port` when one is given; otherwise on the port remembered in `portFile` (any free
 * port when there is none, then remembered). A remembered port that is taken is not forgotten: it
 * is most often a passing collision, and the page's storage lives at that origin.
 */
export async function listenOnRememberedPort(server: http.Server, host: string, options: { port?: number; portFile: string | null }): Promise<ListenOutcome> {
  if (options.port !== undefined || options.portFile === null) {
    await listenOnce(server, options.port ?? 0, host);
    return { rememberedPortTaken: null };
  }
  const remembered = await readRememberedPort(options.portFile);
  if (remembered !== null) {
    try {
      await listenOnce(server, remembered, host);
      return { rememberedPortTaken: null };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' && (error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
      await listenOnce(server, 0, host);
      return { rememberedPortTaken: remembered };
    }
  }
  await listenOnce(server, 0, host);
  const address = server.address();
  if (address && typeof address === 'object') {
    await fs.mkdir(path.dirname(options.portFile), { recursive: true });
    await rememberPort(options.portFile, address.port);
  }
  return { rememberedPortTaken: null };
}
