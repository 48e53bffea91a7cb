/**
 * An event as emitted: a flat object whose values are all strings (docs/events.md), in the
 * field order of the schema, so that JSON.stringify writes them in that order.
 */
export type SensorEvent = Record<string, string>;

export type EventName = 'SmtpCommand' | 'SmtpAnomaly' | 'SmtpTlsHandshake';
