import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { injectContentSecurityPolicy } from './src/main/shell/security';

// One main build with three entries: the Electron shell, the engine process (forked on its own)
// and the command line. Dependencies stay external so native modules load from node_modules.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/shell/index.ts'),
          engine: resolve(__dirname, 'src/engine/main.ts'),
          cli: resolve(__dirname, 'src/main/cli/index.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin({ exclude: ['zod'] })],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [
      svelte(),
      {
        // One Content-Security-Policy: the meta tag is written from the definition the shell sends as a header.
        name: 'atelier-content-security-policy',
        transformIndexHtml: { order: 'pre', handler: (html, ctx) => injectContentSecurityPolicy(html, ctx.server !== undefined) },
      },
    ],
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/renderer/index.html'),
        },
      },
    },
  },
});
