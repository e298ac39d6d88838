import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

// On a share link this module runs only once the early frame is painted (or after 1 s at the latest):
// lib/player/early-frame.ts asks the build's loader for it then, so the app renders around that frame.
mount(App, { target: document.getElementById('app')! });
