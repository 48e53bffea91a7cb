/**
 * Where one network sink stands in the spool. `acknowledged` is the first sequence number its
 * collector has not confirmed (persisted in the sink's ack file); `read` is the first one it
 * has not read yet (batches in flight lie between the two). `dropped` counts records that the
 * size cap deleted before this sink read them.
 */
export interface SpoolConsumer {
  readonly name: string;
  acknowledged: number;
  read: number;
  dropped: number;
}
