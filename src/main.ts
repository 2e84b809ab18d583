// Page entry: mounts the Svelte app. Everything else starts from App.svelte.
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('Lathe: the page has no #app element.');

export default mount(App, { target });
