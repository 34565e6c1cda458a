/**
 * WGSL identifiers for the names of a PrimFunc. One namer serves a whole
 * WGSL module, function locals included: every name is unique in the module,
 * so no local can shadow a buffer, a helper or a builtin the code calls.
 */

// Keywords and reserved words of the WGSL spec.
const RESERVED_WORDS =
  'alias break case const const_assert continue continuing default diagnostic discard else enable false fn for if let ' +
  'loop override requires return struct switch true var while ' +
  'NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become binding_array cast ' +
  'catch class co_await co_return co_yield coherent column_major common compile compile_fragment concept const_cast ' +
  'consteval constexpr constinit crate debugger decltype delete demote demote_to_helper do dynamic_cast enum explicit ' +
  'export extends extern external fallthrough filter final finally friend from fxgroup get goto groupshared highp impl ' +
  'implements import inline instanceof interface layout lowp macro macro_rules match mediump meta mod module move mut ' +
  'mutable namespace new nil noexcept noinline nointerpolation non_coherent noncoherent noperspective null nullptr of ' +
  'operator package packoffset partition pass patch pixelfragment precise precision premerge priv protected pub public ' +
  'readonly ref regardless register reinterpret_cast require resource restrict self set shared sizeof smooth snorm ' +
  'static static_assert static_cast std subroutine super target template this thread_local throw trait try type typedef ' +
  'typeid typename typeof union unless unorm unsafe unsized use using varying virtual volatile wgsl where with writeonly yield';

// Predeclared names: not reserved, but a local of that name would hide the type or builtin the code refers to.
const PREDECLARED =
  'array atomic bool f16 f32 i32 i64 u32 u64 ptr sampler sampler_comparison vec2 vec3 vec4 mat2x2 mat2x3 mat2x4 mat3x2 ' +
  'mat3x3 mat3x4 mat4x2 mat4x3 mat4x4 read write read_write function private workgroup uniform storage bitcast all any ' +
  'select arrayLength abs acos acosh asin asinh atan atanh atan2 ceil clamp cos cosh countLeadingZeros countOneBits ' +
  'countTrailingZeros cross degrees determinant distance dot exp exp2 extractBits faceForward firstLeadingBit ' +
  'firstTrailingBit floor fma fract frexp insertBits inverseSqrt ldexp length log log2 max min mix modf normalize pow ' +
  'quantizeToF16 radians reflect refract reverseBits round saturate sign sin sinh smoothstep sqrt step tan tanh transpose ' +
  'trunc pack2x16float unpack2x16float workgroupBarrier storageBarrier workgroupUniformLoad';

/** What the generated code itself declares: the uniform struct and the entry points' builtins. */
const GENERATED = 'Uniforms u wid lid nwg';

const TAKEN_ALWAYS: readonly string[] = [RESERVED_WORDS, PREDECLARED, GENERATED].flatMap((s) => s.split(' '));

export class Namer {
  private readonly taken = new Set<string>(TAKEN_ALWAYS);

  /** Reserves names the code uses as they are (the helpers' names). */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.taken.add(n);
  }

  /** A new identifier like `hint`: WGSL's characters, not `_` alone nor starting with `__`, unused so far. */
  fresh(hint: string): string {
    let base = hint.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_');
    base = base.replace(/^__+/, '_');
    if (base === '' || base === '_') base = 'v';
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}
