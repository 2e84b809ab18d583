// Page entry: mounts the Svelte app. Everything else starts from App.svelte.
import { mount } from 'svelte';
import App from './App.svelte';
import { registerServiceWorker } from './pwa/register';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('Lathe: the page has no #app element.');

registerServiceWorker();

export default mount(App, { target });
