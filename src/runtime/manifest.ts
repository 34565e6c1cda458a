/**
 * The artifact directory's manifest (manifest.json): what `codegen` wrote
 * and what the loader needs — entry functions with their symbolic
 * signatures, the VM program, the kernels, the parameters in shards, and the
 * registry functions the program calls.
 */
import type { ParamInfo } from './program.ts';

export const ARTIFACT_FORMAT = 'kiln-artifact';
export const ARTIFACT_VERSION = 1;

export interface ParamEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Index into `params.shards`. */
  readonly shard: number;
  readonly offset: number;
  readonly byteLength: number;
  /** SHA-256 of the bytes (the constant's blob hash). */
  readonly hash: string;
}

export interface EntryInfo {
  /** The parameters, by the model's own names (what `kiln run --input NAME=...` and callNamed take). */
  readonly params: readonly ParamInfo[];
  readonly ret: string;
  /** The results' names (the model's output names); absent when the module records none. */
  readonly outputs?: readonly string[];
  /** The symbolic variables the parameters' dims refer to (slot i is vars[i]). */
  readonly vars: readonly string[];
  /** Per variable, its declared upper bound (null: none); absent when none has one. */
  readonly upper?: readonly (number | null)[];
}

export interface Manifest {
  readonly format: typeof ARTIFACT_FORMAT;
  readonly version: number;
  /** The pipeline (or module) it was built from. */
  readonly name: string;
  readonly target: { readonly name: string; readonly kind: string; readonly device: string };
  /** The functions an application may call, with their parameters and results in the text format. */
  readonly entries: Readonly<Record<string, EntryInfo>>;
  /** The VM program's file. */
  readonly program: string;
  readonly kernels: { readonly format: string; readonly file: string; readonly names: readonly string[] };
  readonly params: {
    readonly shards: readonly { readonly file: string; readonly byteLength: number }[];
    readonly tensors: readonly ParamEntry[];
  };
  /** Registry functions the program calls (call_dps_packed, extern functions): they must be registered before loading. */
  readonly externs: readonly string[];
  /**
   * The backends the program calls through the partition stage: per backend, per registry
   * function, what its codegen recorded and its files (paths in the artifact, by codegen's names).
   * Absent when none.
   */
  readonly backends?: Readonly<
    Record<
      string,
      {
        readonly functions: Readonly<
          Record<string, { readonly entry: unknown; readonly files: Readonly<Record<string, string>> }>
        >;
      }
    >
  >;
}
