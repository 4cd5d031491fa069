export interface DlqListOptions {
  fn?: string;
  limit?: string;
}

export interface DlqPurgeOptions {
  all?: boolean;
  fn?: string;
}
