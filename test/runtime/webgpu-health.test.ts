/** The webgpu device's deferred failures (no GPU needed): a failed command is reported once, a lost device always. */
import { expect, test } from 'vitest';
import { DeviceHealth } from '../../src/runtime/webgpu/health.ts';

function fakeDevice(lost: Promise<{ reason: string; message: string }> = new Promise(() => {})): GPUDevice {
  return { lost } as unknown as GPUDevice;
}

test('a command that failed validation is reported by the next call, once, naming what ran it', async () => {
  const h = new DeviceHealth(fakeDevice());
  h.watch(Promise.resolve(null), 'kernel fine');
  h.watch(Promise.resolve({ message: 'binding 2 is too small\n' } as GPUError), 'kernel bad');
  h.watch(Promise.resolve({ message: 'later' } as GPUError), 'kernel worse');
  await expect(h.settle()).rejects.toThrow('kernel bad: WebGPU error: binding 2 is too small');
  expect(() => h.check()).not.toThrow();
});

test('a lost device is reported by every later call, with its reason', async () => {
  const h = new DeviceHealth(fakeDevice(Promise.resolve({ reason: 'destroyed', message: '' })));
  await Promise.resolve();
  expect(h.lost).toBe('destroyed');
  expect(() => h.check()).toThrow('the WebGPU device was lost: destroyed');
  expect(() => h.check()).toThrow('the WebGPU device was lost: destroyed');
  // An error scope rejects when the device is lost; `lost` reports that, not the scope.
  h.watch(Promise.reject(new Error('lost')), 'kernel k');
  await expect(h.settle()).rejects.toThrow('the WebGPU device was lost: destroyed');
});
