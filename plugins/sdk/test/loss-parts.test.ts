// LossParts on real TensorFlow.js (cpu backend): the terms outlive the tidy scope they were made
// in, repeated names sum, and every kept tensor is released by read() or dispose().
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { LossParts } from '../src/index.ts';

describe('LossParts', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('returns the value it was given, so the caller can sum it into the loss', () => {
    const parts = new LossParts(tf);
    const start = tf.memory().numTensors;
    const total = tf.tidy(() => {
      const a = tf.scalar(1.5);
      assert.equal(parts.add('a', a), a);
      return tf.add(a, parts.add('b', tf.scalar(2))).dataSync()[0];
    });
    assert.equal(total, 3.5);
    assert.deepEqual(parts.read(), { a: 1.5, b: 2 });
    assert.equal(tf.memory().numTensors, start);
  });

  it('keeps each term past the tidy scope it was computed in', () => {
    const parts = new LossParts(tf);
    const start = tf.memory().numTensors;
    tf.tidy(() => {
      parts.add('ce', tf.scalar(0.75));
    });
    assert.equal(tf.memory().numTensors, start + 1, 'the term is held past the tidy');
    assert.deepEqual(parts.read(), { ce: 0.75 });
    assert.equal(tf.memory().numTensors, start);
  });

  it('sums a name that repeats, holding one tensor per name', () => {
    const parts = new LossParts(tf);
    const start = tf.memory().numTensors;
    tf.tidy(() => {
      parts.add('kd', tf.scalar(1));
      parts.add('ce', tf.scalar(10));
      parts.add('kd', tf.scalar(2.5));
      parts.add('kd', tf.scalar(-0.5));
    });
    assert.equal(tf.memory().numTensors, start + 2);
    assert.deepEqual(parts.read(), { kd: 3, ce: 10 });
    assert.equal(tf.memory().numTensors, start);
  });

  it('read() empties it: a second read reports nothing, and the names start again from zero', () => {
    const parts = new LossParts(tf);
    tf.tidy(() => {
      parts.add('a', tf.scalar(4));
    });
    assert.deepEqual(parts.read(), { a: 4 });
    assert.deepEqual(parts.read(), {});
    tf.tidy(() => {
      parts.add('a', tf.scalar(1));
    });
    assert.deepEqual(parts.read(), { a: 1 });
  });

  it('dispose() releases the terms without reading them', () => {
    const parts = new LossParts(tf);
    const start = tf.memory().numTensors;
    tf.tidy(() => {
      parts.add('a', tf.scalar(1));
      parts.add('b', tf.scalar(2));
      parts.add('a', tf.scalar(3));
    });
    parts.dispose();
    assert.equal(tf.memory().numTensors, start);
    assert.deepEqual(parts.read(), {});
  });
});
