export { default as Alert } from './Alert.svelte';
export { default as Spinner } from './Spinner.svelte';
export { default as TopBar } from './TopBar.svelte';
export { default as Logo } from './Logo.svelte';
export { default as CopyButton } from './CopyButton.svelte';
export { default as TrackerSnippet } from './TrackerSnippet.svelte';
export { default as JsonValue } from './JsonValue.svelte';
