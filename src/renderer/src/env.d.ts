/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { StudioApi } from '../../shared/studio-api';

declare global {
  interface Window {
    studio: StudioApi;
  }
}

export {};
