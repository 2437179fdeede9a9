import { createInterface } from 'node:readline/promises';
import type { Library } from '../library';

/**
 * Whether the Hugging Face token may go to a hub that is not huggingface.co. Only the person at
 * the machine decides, through a question the main process asks (a native dialog in the desktop
 * app, the terminal in browser mode and the CLI): no renderer or WebSocket client can answer it,
 * and the answer is kept for one origin only, so pointing the endpoint elsewhere asks again.
 */
export type HubTrustPrompt = (origin: string) => Promise<boolean>;

/** The library setting holding the one trusted origin. Not a `Settings` key, so `settings.set` cannot write it. */
export const HUB_TRUST_SETTING = 'hub.trustedOrigin';

export type HubTrustStore = Pick<Library, 'listSettings' | 'setSetting'>;

/** On a terminal, ask there; without one (a service, a test run) nobody can be asked, so the answer is no. */
function defaultPrompt(): HubTrustPrompt {
  return async (origin) => {
    if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
    return askOnTerminal(origin, process.stdin, process.stderr);
  };
}

let prompt: HubTrustPrompt = defaultPrompt();

/** The desktop shell installs its dialog here; browser mode and the CLI keep the terminal question. */
export function setHubTrustPrompt(next: HubTrustPrompt | null): void {
  prompt = next ?? defaultPrompt();
}

export function hubTrustQuestion(origin: string): string {
  return `The model hub is set to ${origin}, which is not huggingface.co. Send your Hugging Face access token to ${origin}? Only say yes if you run or trust this server.`;
}

export async function askOnTerminal(origin: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: false });
  try {
    const answer = await rl.question(`${hubTrustQuestion(origin)} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

export function trustedHubOrigin(store: HubTrustStore): string | null {
  const value = store.listSettings()[HUB_TRUST_SETTING];
  return typeof value === 'string' ? value : null;
}

/** Changing the endpoint drops the trust: the next host must be allowed on its own. */
export function forgetHubTrust(store: HubTrustStore): void {
  store.setSetting(HUB_TRUST_SETTING, undefined);
}

/**
 * The hub client's question "may the token go to `origin`?", backed by the library: the stored
 * answer if it is for this origin, otherwise the prompt, whose yes is remembered.
 */
export function libraryHubTrust(store: HubTrustStore, ask: () => HubTrustPrompt = () => prompt): (origin: string) => Promise<boolean> {
  return async (origin) => {
    if (trustedHubOrigin(store) === origin) return true;
    if (!(await ask()(origin))) return false;
    store.setSetting(HUB_TRUST_SETTING, origin);
    return true;
  };
}
