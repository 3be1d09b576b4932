/** Flag value parsers shared by the commands: each throws a UsageError naming the flag. */
import { UsageError } from './errors.js';

/** An integer ≥ min: `int('seed')('3')` → 3. */
export function int(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

/** A positive number of seconds. */
export function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds, got '${v}'`);
    return n;
  };
}
