/**
 * Values from command-line flags, shaped like the YAML file (`{ capture: { ports: [25] } }`).
 * They replace the file's values key by key; arrays are replaced whole.
 */
export type ConfigOverrides = { [key: string]: ConfigOverrides | unknown };

export function applyOverrides(base: unknown, overrides: ConfigOverrides): unknown {
  // An empty section (`capture:` with its keys commented out) is null: no values. Any other
  // value that is not a mapping (`logging: debug`) is the file's mistake and is kept, for the
  // schema to name it; merging the flags into {} in its place would hide it, since `run`
  // passes every section of flags, even when no flag is given.
  if (base === undefined || base === null) return applyOverrides({}, overrides);
  if (!isPlainObject(base)) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    merged[key] = isPlainObject(value) ? applyOverrides(merged[key], value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
