/**
 * Values from command-line flags, shaped like the YAML file (`{ capture: { ports: [25] } }`).
 * They replace the file's values key by key; arrays are replaced whole.
 */
export type ConfigOverrides = { [key: string]: ConfigOverrides | unknown };

export function applyOverrides(base: unknown, overrides: ConfigOverrides): unknown {
  if (!isPlainObject(base)) return applyOverrides({}, overrides);
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
