import type { SinkConfig } from './config-schema.js';

/**
 * The name of each sink: its `name`, or its type, numbered from the second sink of a type on
 * (`http`, `http-2`). A network sink's name keys its position in the spool, so renaming it, or
 * reordering unnamed sinks of one type, makes it start again from the oldest spooled event.
 */
export function sinkNames(sinks: readonly SinkConfig[]): string[] {
  const seen = new Map<string, number>();
  return sinks.map((sink) => {
    if (sink.name !== undefined) return sink.name;
    const count = (seen.get(sink.type) ?? 0) + 1;
    seen.set(sink.type, count);
    return count === 1 ? sink.type : `${sink.type}-${count}`;
  });
}
