import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { TrainResponse } from '@supernetd/api';

/** What a Train stream delivered before it ended or was abandoned. */
export interface TrainStreamLog {
  events: TrainResponse[];
  /** Set when the stream ended with an error status. */
  error: ServiceError | undefined;
}

/**
 * Follows a Train stream, recording every event; `until` is called after each event and the
 * returned promise resolves as soon as it returns true (the stream keeps running and recording) or
 * the stream ends. `done` resolves when the stream has ended, with or without an error.
 */
export function followTrain(
  stream: ClientReadableStream<TrainResponse>,
  until: (e: TrainResponse, log: TrainStreamLog) => boolean,
): { reached: Promise<TrainStreamLog>; done: Promise<TrainStreamLog> } {
  const log: TrainStreamLog = { events: [], error: undefined };
  let reachedResolve!: (l: TrainStreamLog) => void;
  const reached = new Promise<TrainStreamLog>((r) => (reachedResolve = r));
  const done = new Promise<TrainStreamLog>((resolve) => {
    stream.on('data', (e: TrainResponse) => {
      log.events.push(e);
      if (until(e, log)) reachedResolve(log);
    });
    stream.on('error', (err: ServiceError) => {
      log.error = err;
    });
    // grpc-js emits 'status' last, after the final 'data' and any 'error'.
    const finish = () => {
      reachedResolve(log);
      resolve(log);
    };
    stream.on('status', finish);
    stream.on('close', finish);
  });
  return { reached, done };
}
