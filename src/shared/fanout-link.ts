/**
 * The path from this node's broadcasts to the other nodes' sockets (the Redis adapter), as the
 * socket layer sees it. Absent on a single node, where every socket is local.
 */
export interface FanoutLink {
  /** True while a broadcast reaches the other nodes: publisher connected, subscriptions back in place. */
  readonly up: boolean;
  /**
   * Runs each time the link is up again after being down, with when it went down (this node's
   * clock): broadcasts from then on may not have reached the other nodes. Returns the unsubscribe.
   */
  onRestored(listener: (outage: LinkOutage) => void): () => void;
}

/** A link outage just ended. */
export interface LinkOutage {
  /** When the link was first seen down. */
  since: Date;
}
