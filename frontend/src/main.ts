import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

// A share link's early frame (lib/player/early-frame.ts) is painted before the app renders around it; a
// frame that takes longer than EARLY_HOLD_MS no longer holds the app.
const EARLY_HOLD_MS = 1_000;
if (window.__tandemEarlyHold) await Promise.race([window.__tandemEarlyHold, new Promise((resolve) => setTimeout(resolve, EARLY_HOLD_MS))]);

mount(App, { target: document.getElementById('app')! });
