import type pino from 'pino';
import type { SensorConfig } from '../src/config/config-schema.js';
import { loadConfig } from '../src/config/load-config.js';
import type { ConfigOverrides } from '../src/config/config-overrides.js';
import type { SensorEvent } from '../src/events/sensor-event.js';
import { SinkSet } from '../src/sinks/sink-set.js';

/** How long the old sinks of a SIGHUP reload get to deliver before they are closed, ms. */
const RELOAD_CLOSE_MS = 2_000;

/** What SIGHUP does not change: the capture, and how processes are found, are set at start. */
const RESTART_SECTIONS = ['capture', 'attribution'] as const;

/**
 * The sinks of the running configuration, and what SIGHUP does to them: the configuration is
 * read again; a bad file is refused (logged) and the running one kept; output files are
 * reopened (for an external log rotation); when the outputs or the spool changed, the old sink
 * set delivers what it can and is replaced, by the running configuration's sinks again when
 * the new ones cannot be opened. Capture settings apply at the next restart.
 */
export class OutputRouter {
  private sinks: SinkSet;
  private reloading: Promise<void> | undefined;

  constructor(
    private config: SensorConfig,
    private readonly configPath: string | undefined,
    private readonly overrides: ConfigOverrides,
    private readonly log: pino.Logger,
  ) {
    this.sinks = new SinkSet(config, log);
  }

  get current(): SinkSet {
    return this.sinks;
  }

  write(event: SensorEvent): void {
    this.sinks.write(event);
  }

  reload(): void {
    let next: SensorConfig;
    try {
      next = loadConfig(this.configPath, this.overrides);
    } catch (error) {
      this.log.error({ error: (error as Error).message }, 'configuration reload refused');
      return;
    }
    this.log.level = next.logging.level;
    for (const section of RESTART_SECTIONS) {
      if (JSON.stringify(next[section]) !== JSON.stringify(this.config[section])) {
        this.log.warn({ section }, 'settings changed that apply when the sensor restarts');
      }
    }
    const outputsChanged = JSON.stringify([next.output, next.spool])
      !== JSON.stringify([this.config.output, this.config.spool]);
    const previous = this.config;
    this.config = next;
    if (this.reloading !== undefined) {
      // The replacement under way opens the sinks of this.config once the old ones are
      // closed: this newer file is the one that applies, not the one read before it.
      this.log.info('configuration reloaded, outputs replaced after the reload under way');
      return;
    }
    if (!outputsChanged) {
      this.sinks.reopen();
      this.log.info('configuration reloaded, output files reopened');
      return;
    }
    this.replaceSinks(previous);
  }

  /** Flushes and closes, giving network sinks until `deadline` (ms since the epoch). */
  async close(deadline: number): Promise<void> {
    await this.reloading;
    await this.sinks.close(deadline);
  }

  /**
   * Closes the running sinks and opens those of `this.config`, read when the old ones are
   * closed so that a SIGHUP received meanwhile is not lost. `previous` is the running
   * configuration, opened again when the new sinks cannot be (an output file in a folder
   * that does not exist): the old sinks are closed by then, and events must keep flowing.
   */
  private replaceSinks(previous: SensorConfig): void {
    const old = this.sinks;
    // The old set takes writes until its close settles, so nothing is dropped meanwhile.
    this.reloading = old.close(Date.now() + RELOAD_CLOSE_MS).then(() => {
      this.sinks = this.openLatestOr(previous);
    }).catch((error: unknown) => {
      this.log.error({ error: (error as Error).message }, 'outputs could not be replaced');
    }).finally(() => {
      this.reloading = undefined;
    });
  }

  private openLatestOr(previous: SensorConfig): SinkSet {
    try {
      const sinks = new SinkSet(this.config, this.log);
      this.log.info('configuration reloaded, outputs replaced');
      return sinks;
    } catch (error) {
      this.log.error({ error: (error as Error).message },
        'outputs could not be replaced, the running ones are kept');
      this.config = previous;
      return new SinkSet(previous, this.log);
    }
  }
}
