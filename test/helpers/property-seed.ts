import fc from 'fast-check';

/** The seed of every property test unless SMTP_SENSOR_PROPERTY_SEED names another. */
const DEFAULT_SEED = 20_261_204;

/**
 * Property tests draw the same cases on every run, so that a test run (and CI) is repeatable:
 * set SMTP_SENSOR_PROPERTY_SEED to a number for other cases, or to `random` for new ones on
 * each run, to look for counterexamples; one found becomes a table-driven test of its own.
 * fast-check prints the seed and the shrunk case of any failure.
 */
export function usePropertySeed(): void {
  const wanted = process.env.SMTP_SENSOR_PROPERTY_SEED;
  if (wanted === 'random') return;
  const seed = wanted === undefined || wanted === '' ? DEFAULT_SEED : Number(wanted);
  if (!Number.isInteger(seed)) {
    throw new Error(`SMTP_SENSOR_PROPERTY_SEED must be an integer or random, not ${wanted}`);
  }
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
