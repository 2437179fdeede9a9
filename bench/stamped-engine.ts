/**
 * Bench-only engine entry: the real engine (same EngineServer, pipelines, transport) with ONE
 * addition: every message it sends carries `benchSentAt`, the sender's wall clock in ms
 * (performance.timeOrigin + performance.now(), sub-ms, the same clock the main process reads).
 * The engine itself does not stamp tokens; this lets bench/text-overhead.ts measure the hop
 * "token produced in the engine (onToken → send)" → "token event in main / at a WebSocket client"
 * without touching product code.
 */
import { createEngineContext } from '../src/engine/runtime/context';
import { EngineServer } from '../src/engine/server';
import { detectTransport } from '../src/engine/transport';

const transport = detectTransport();
if (!transport) {
  process.stderr.write('stamped-engine must be forked with an IPC channel.\n');
  process.exit(2);
}
const server = new EngineServer(
  (message) => transport.send(Object.assign({}, message, { benchSentAt: performance.timeOrigin + performance.now() })),
  createEngineContext(),
);
transport.onMessage((message) => server.handle(message));
transport.onDisconnect(() => process.exit(0));
transport.send({ type: 'ready', pid: process.pid });
