import { mount } from 'svelte';
import './styles/tokens.css';
import './styles/app.css';
import { ensureStudio } from './browser-transport';
import App from './App.svelte';

async function start(): Promise<void> {
  const target = document.getElementById('app');
  if (!target) throw new Error('Atelier: #app root is missing from index.html');
  try {
    await ensureStudio();
  } catch (error) {
    target.textContent = `Atelier could not connect to its back end: ${error instanceof Error ? error.message : String(error)}. Restart the app and try again.`;
    return;
  }
  mount(App, { target });
}

void start();
