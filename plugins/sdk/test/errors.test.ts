// Errors cross the worker-thread boundary as plain objects; the gRPC status a client sees depends
// on the class and reason coming back intact.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbortedError,
  AlreadyExistsError,
  CancelledError,
  FailedPreconditionError,
  InvalidArgumentError,
  InvalidConfigError,
  NotFoundError,
  ResourceExhaustedError,
  SupernetdError,
  UnauthenticatedError,
  UnavailableError,
  deserializeError,
  serializeError,
} from '../src/index.ts';

/** Through serializeError, structured clone (as postMessage does) and deserializeError. */
const roundTrip = (e: unknown): Error => deserializeError(structuredClone(serializeError(e)));

describe('errors', () => {
  it('each class carries its gRPC status name', () => {
    const cases: [SupernetdError, string][] = [
      [new InvalidArgumentError('m'), 'INVALID_ARGUMENT'],
      [new InvalidConfigError('pss', 'k: bad'), 'INVALID_ARGUMENT'],
      [new NotFoundError('EXPERIMENT_NOT_FOUND', 'm'), 'NOT_FOUND'],
      [new AlreadyExistsError('EXPERIMENT_ALREADY_EXISTS', 'm'), 'ALREADY_EXISTS'],
      [new FailedPreconditionError('CONSTRAINT_UNSATISFIABLE', 'm'), 'FAILED_PRECONDITION'],
      [new AbortedError('TRAINING_IN_PROGRESS', 'm'), 'ABORTED'],
      [new ResourceExhaustedError('LIMIT_EXCEEDED', 'm'), 'RESOURCE_EXHAUSTED'],
      [new UnauthenticatedError(), 'UNAUTHENTICATED'],
      [new UnavailableError('SHUTTING_DOWN', 'm'), 'UNAVAILABLE'],
      [new CancelledError(), 'CANCELLED'],
    ];
    for (const [e, code] of cases) assert.equal(e.code, code, e.name);
  });

  it('InvalidConfigError names the strategy and has reason INVALID_STRATEGY_CONFIG', () => {
    const e = new InvalidConfigError('cafenet', 'bins: must be >= 1, got 0');
    assert.equal(e.message, "invalid config for strategy 'cafenet': bins: must be >= 1, got 0");
    assert.equal(e.reason, 'INVALID_STRATEGY_CONFIG');
    assert.equal(e.name, 'InvalidConfigError');
    assert.ok(e instanceof InvalidArgumentError);
  });

  it('defaults: INVALID_ARGUMENT reason, the cancel and authentication messages', () => {
    assert.equal(new InvalidArgumentError('m').reason, 'INVALID_ARGUMENT');
    assert.equal(new CancelledError().message, 'cancelled by the caller');
    assert.equal(new UnauthenticatedError().message, 'missing or invalid bearer token');
  });

  it('every class survives the worker boundary with its class, status, reason and message', () => {
    const errors: SupernetdError[] = [
      new InvalidArgumentError('bad tensor', 'INVALID_TENSOR'),
      new NotFoundError('SUBNET_NOT_FOUND', 'no subnet sn-1'),
      new AlreadyExistsError('EXPERIMENT_ALREADY_EXISTS', 'taken'),
      new FailedPreconditionError('CONSTRAINT_UNSATISFIABLE', 'too tight'),
      new AbortedError('TRAINING_IN_PROGRESS', 'busy'),
      new ResourceExhaustedError('LIMIT_EXCEEDED', 'too big'),
      new UnavailableError('SHUTTING_DOWN', 'bye'),
      new CancelledError('deadline'),
      new UnauthenticatedError('who?'),
    ];
    for (const e of errors) {
      const back = roundTrip(e);
      assert.equal(back.constructor, e.constructor, e.name);
      assert.ok(back instanceof SupernetdError);
      assert.deepEqual([back.code, back.reason, back.message, back.name], [e.code, e.reason, e.message, e.name]);
    }
  });

  it('an InvalidConfigError comes back as an InvalidArgumentError with the same reason and message', () => {
    const back = roundTrip(new InvalidConfigError('dna', 'x: unknown key'));
    assert.equal(back.constructor, InvalidArgumentError);
    assert.deepEqual(
      [(back as InvalidArgumentError).reason, back.message],
      ['INVALID_STRATEGY_CONFIG', "invalid config for strategy 'dna': x: unknown key"],
    );
  });

  it("a plug-in's own subclass crosses as its nearest built-in class, keeping status, reason and message", () => {
    class PoolEmptyError extends FailedPreconditionError {
      constructor() {
        super('CONSTRAINT_UNSATISFIABLE', 'no pool holds a subnet under 1000 flops');
      }
    }
    class SlowCancel extends CancelledError {}
    const back = roundTrip(new PoolEmptyError());
    assert.equal(back.constructor, FailedPreconditionError);
    assert.ok(back instanceof FailedPreconditionError);
    assert.deepEqual([back.code, back.reason, back.message], ['FAILED_PRECONDITION', 'CONSTRAINT_UNSATISFIABLE', 'no pool holds a subnet under 1000 flops']);
    assert.equal(roundTrip(new SlowCancel('gone')).constructor, CancelledError);
  });

  it('details cross the boundary with the error', () => {
    const back = roundTrip(new ResourceExhaustedError('LIMIT_EXCEEDED', 'too big').with({ limit: 'maxSpaceParams' }));
    assert.ok(back instanceof ResourceExhaustedError);
    assert.deepEqual(back.details, { limit: 'maxSpaceParams' });
    assert.equal('details' in serializeError(new NotFoundError('SUBNET_NOT_FOUND', 'm')), false);
  });

  it('anything else is INTERNAL and comes back as a plain Error with its message and stack', () => {
    const boom = new TypeError('boom');
    const s = serializeError(boom);
    assert.deepEqual([s.kind, s.reason, s.message], ['Error', 'INTERNAL', 'boom']);
    const back = roundTrip(boom);
    assert.equal(back.constructor, Error);
    assert.equal(back.message, 'boom');
    assert.equal(back.stack, boom.stack);
    assert.deepEqual([serializeError('text').kind, serializeError('text').message], ['Error', 'text']);
  });

  it('a serialised form of an unknown kind comes back as a plain Error', () => {
    const back = deserializeError({ kind: 'NoSuchError', reason: 'EXPERIMENT_NOT_FOUND', message: 'm' });
    assert.equal(back.constructor, Error);
    assert.equal(back.message, 'm');
  });
});
