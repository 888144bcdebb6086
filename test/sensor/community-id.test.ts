// Community ID v1 against the spec's published vectors (seed 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { communityId } from '../../sensor/src/native.js';

test('community id: spec test vectors', () => {
  assert.equal(communityId('128.232.110.120', '66.35.250.204', 6, 34855, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(communityId('192.168.1.52', '8.8.8.8', 17, 54585, 53), '1:d/FP5EW3wiY1vCndhwleRRKHowQ=');
  assert.equal(communityId('192.168.0.89', '192.168.0.1', 1, 8, 0), '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
  assert.equal(
    communityId('2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 6, 63943, 25),
    '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=',
  );
});

test('community id: direction independent, ICMP echo reply maps to the request', () => {
  assert.equal(communityId('66.35.250.204', '128.232.110.120', 6, 80, 34855), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(communityId('8.8.8.8', '192.168.1.52', 17, 53, 54585), '1:d/FP5EW3wiY1vCndhwleRRKHowQ=');
  // echo reply (type 0) from .1 to .89 hashes like the request
  assert.equal(communityId('192.168.0.1', '192.168.0.89', 1, 0, 0), '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
  // one-way types are not reordered: reversed endpoints give a different id
  assert.notEqual(communityId('10.0.0.1', '10.0.0.2', 1, 3, 1), communityId('10.0.0.2', '10.0.0.1', 1, 3, 1));
});
