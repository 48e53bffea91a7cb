/** The host fields of every event. */
export interface HostIdentity {
  /** Agent id: /etc/machine-id unless configured. */
  readonly aid: string;
  readonly computerName: string;
}
