// Starts the dashboard's child process when the project runs from source: registers tsx's
// loader in this child, then imports the TypeScript entry next to this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./child.ts', import.meta.url).href);
