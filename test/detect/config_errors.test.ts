import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectConfigError, resolveTrainConfig } from '../../src/detect/config.js';

const err = (c: unknown) => {
  try {
    resolveTrainConfig(c, 3);
  } catch (e) {
    assert.ok(e instanceof DetectConfigError, String(e));
    return (e as Error).message;
  }
  assert.fail('accepted');
};

test('training config errors name the field of the model overrides (not "model: Invalid input")', () => {
  assert.match(err({ detector: 'fcos', data: 'd', model: { minLevel: 'a' } }), /model\.minLevel: Expected number, received string/);
  assert.match(err({ detector: 'faster-rcnn', data: 'd', model: { roiSize: -1 } }), /model\.roiSize: Number must be greater than 0/);
  assert.match(err({ detector: 'fcos', data: 'd', model: { fpnChannels: 8, rpnBatch: 3 } }), /model: unknown field\(s\) 'rpnBatch'/);
  assert.doesNotMatch(err({ detector: 'fcos', data: 'd', model: { minLevel: 'a' } }), /Invalid input/);
});
