/**
 * What can go wrong on a WebGPU device after a call has returned: the device
 * is lost, or a command it already accepted fails validation (WebGPU reports
 * those asynchronously, through error scopes). Kernels run without waiting
 * for the verdict; the device's next call — a kernel, a download — reports it.
 */
export class DeviceHealth {
  private lostReason: string | undefined;
  private failure: Error | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(device: GPUDevice) {
    void device.lost.then((info) => {
      this.lostReason = info.message || info.reason || 'unknown reason';
    });
    // Errors outside any scope (a buffer copy, a map) would otherwise only be logged.
    device.onuncapturederror = (e) => this.fail(e.error, 'a WebGPU call');
  }

  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Throws when the device is lost or an earlier command failed (reporting each failure once). */
  check(): void {
    if (this.lostReason !== undefined) throw new Error(`the WebGPU device was lost: ${this.lostReason}`);
    const f = this.failure;
    if (f) {
      this.failure = undefined;
      throw f;
    }
  }

  /** Watches the result of an error scope pushed around the work of `what`. */
  watch(scope: Promise<GPUError | null>, what: string): void {
    const p = scope.then(
      (err) => this.fail(err, what),
      // popErrorScope rejects only when the device is lost, which `lost` reports.
      () => undefined,
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits for every watched scope, then reports as check() does. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
    this.check();
  }

  private fail(err: GPUError | null, what: string): void {
    if (err && !this.failure) this.failure = new Error(`${what}: WebGPU error: ${err.message.trim()}`);
  }
}
