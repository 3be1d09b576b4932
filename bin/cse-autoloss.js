#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx, so the repository checkout is the install.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
register();
await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
