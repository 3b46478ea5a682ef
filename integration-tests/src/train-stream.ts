import { SupernetdError } from '@supernetd/client';
import type { TrainResponse } from '@supernetd/client';

/** What a Train stream delivered before it ended or was abandoned. */
export interface TrainStreamLog {
  events: TrainResponse[];
  /** Set when the stream ended with an error status. */
  error: SupernetdError | undefined;
}

/**
 * Follows a Train stream (the client's `train`), recording every event; `until` is called after
 * each event and the returned promise resolves as soon as it returns true (the stream keeps running
 * and recording) or the stream ends. `done` resolves when the stream has ended, with or without an
 * error.
 */
export function followTrain(
  stream: AsyncIterable<TrainResponse>,
  until: (e: TrainResponse, log: TrainStreamLog) => boolean,
): { reached: Promise<TrainStreamLog>; done: Promise<TrainStreamLog> } {
  const log: TrainStreamLog = { events: [], error: undefined };
  let reachedResolve!: (l: TrainStreamLog) => void;
  const reached = new Promise<TrainStreamLog>((r) => (reachedResolve = r));
  const done = (async () => {
    try {
      for await (const e of stream) {
        log.events.push(e);
        if (until(e, log)) reachedResolve(log);
      }
    } catch (err) {
      log.error = SupernetdError.from(err);
    }
    reachedResolve(log);
    return log;
  })();
  return { reached, done };
}
