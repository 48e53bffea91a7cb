/** An event as the query language sees it: flat, every value a string. */
export type EventRecord = Readonly<Record<string, string>>;

/** A compiled expression: true when the event matches. It has no observable side effects. */
export type EventPredicate = (event: EventRecord) => boolean;
