/** Polls `condition` every 20 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean,
  timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
