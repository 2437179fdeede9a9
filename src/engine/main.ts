/**
 * The engine process entry. Started by the main process with Electron's utilityProcess.fork or
 * Node's child_process.fork (execArgv ['--import', 'tsx'] when running from source); talks the
 * protocol of src/shared/engine-protocol.ts over whichever channel it was given.
 */
import { createEngineContext } from './runtime/context';
import { EngineServer } from './server';
import { detectTransport } from './transport';

const transport = detectTransport();
if (!transport) {
  process.stderr.write('The Atelier engine must be started by the app (child_process.fork or utilityProcess.fork); it has no message channel.\n');
  process.exit(2);
}

const server = new EngineServer((message) => transport.send(message), createEngineContext());

process.on('unhandledRejection', (reason) => {
  server.log('error', `Unhandled rejection in the engine: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});
process.on('uncaughtException', (error) => {
  // State after an uncaught exception is unknown (a native session may be half-built): report it,
  // then exit so the main process restarts a clean engine and marks the job failed.
  server.log('error', `Uncaught exception in the engine: ${error.stack ?? error.message}`);
  setTimeout(() => process.exit(70), 50);
});

transport.onMessage((message) => server.handle(message));
transport.onDisconnect(() => process.exit(0));
transport.send({ type: 'ready', pid: process.pid });
