import * as grpc from '@grpc/grpc-js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { SupernetdClient, SupernetdError } from '@supernetd/client';
import type { TrainRequestSchema, TrainResponse } from '@supernetd/client';

/**
 * Deadline of each call the search CLI makes: an export by constraint runs the strategy's deploy
 * search and an evaluation may cover the whole test split, which take minutes on a small machine.
 */
const CALL_TIMEOUT_MS = 3_600_000;

/** The TypeScript client as the search CLI uses it: plaintext to `address`, with `token` when given (never read from the environment here). */
export function searchClient(address: string, token?: string): SupernetdClient {
  return new SupernetdClient({ address, token: token ?? '', tls: false, timeoutMs: CALL_TIMEOUT_MS });
}

/** How a Train stream ended. */
export type TrainOutcome = 'done' | 'cancelled';

/**
 * Streams Train progress to `onEvent`. Aborting `signal` cancels the call: the server stops after
 * the current step and checkpoints, and this resolves `cancelled`. Rejects with SupernetdError when
 * the server refuses or fails the call, and with what `onEvent` throws (the call is cancelled then).
 */
export async function trainWithProgress(
  client: SupernetdClient,
  init: MessageInitShape<typeof TrainRequestSchema>,
  onEvent: (e: TrainResponse) => void,
  signal?: AbortSignal,
): Promise<TrainOutcome> {
  try {
    for await (const e of client.train(init, signal ? { signal } : {})) onEvent(e);
  } catch (err) {
    if (signal?.aborted && err instanceof SupernetdError && err.code === grpc.status.CANCELLED) return 'cancelled';
    throw err;
  }
  return signal?.aborted ? 'cancelled' : 'done';
}
