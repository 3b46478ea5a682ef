// The SDK's reasons are written out (it imports no generated code); the wire carries the proto enum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorReasonSchema } from '@supernetd/api';
import { ERROR_REASONS } from '@supernetd/sdk';

test("the SDK's ERROR_REASONS are the proto ErrorReason values but UNSPECIFIED, in the enum's order", () => {
  const proto = [...ErrorReasonSchema.values].sort((a, b) => a.number - b.number);
  assert.equal(proto[0]?.name, 'ERROR_REASON_UNSPECIFIED');
  for (const v of proto) assert.match(v.name, /^ERROR_REASON_/);
  assert.deepEqual(
    [...ERROR_REASONS],
    proto.slice(1).map((v) => v.name.slice('ERROR_REASON_'.length)),
    'plugins/sdk/src/errors.ts ERROR_REASONS and proto/supernetd/v1/error_reason.proto differ',
  );
});
