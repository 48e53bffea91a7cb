/**
 * Stable names of the anomalies the capture side finds (docs/anomalies.md says what each
 * means). They reach events beside the SMTP side's names; processing always continues.
 */
export type CaptureAnomalyName = 'tcp_overlap_conflict';
