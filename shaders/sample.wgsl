// Token sampling on the GPU, so the host reads back only the 4-byte token id. Logits map to order keys (u32
// whose order is the f32 order), and kept tokens are exactly those with key >= a threshold key t:
//   1. max_partial + max_final: the max logit and its lowest index (the greedy token, and the fallback).
//   2. top-k: bisection over t in [0, 2^32) for the largest t with count(key >= t) >= k (ties with the k-th
//      largest logit stay kept, as in Hugging Face's TopKLogitsWarper); 32 steps of threshold_partial + search_step.
//   3. kept mass Z_k = sum over key >= t of p_i, with p_i = exp((logit_i - max) / temperature).
//   4. top-p: bisection for the smallest t' >= t with mass(key > t') < top_p * Z_k, so a token is kept when the
//      mass of strictly larger logits is below top_p, as in TopPLogitsWarper up to ties; 32 more steps.
//   5. pick: the first index, in index order, where the running kept mass exceeds draw * (kept mass). A scan over
//      the per-chunk partials finds the chunk, a scan inside the chunk finds the token.
// Sums are in f32 in a fixed order, so the result matches an exact reference up to ties and float rounding.
// Bindings are shared by every entry point. Dispatch: the partial passes run one workgroup per chunk of
// WORKGROUP_SIZE * ITEMS_PER_THREAD logits; max_final, search_step and pick run one workgroup.
override WORKGROUP_SIZE: u32;   // a power of two, for the tree reductions and scans
override ITEMS_PER_THREAD: u32;

struct Params {
  vocab: u32,
  partials: u32,      // chunks of WORKGROUP_SIZE * ITEMS_PER_THREAD logits
  top_k: u32,         // 0 when top-k is off
  stage: u32,         // search_step: STAGE_TOP_K, STAGE_KEPT_MASS or STAGE_TOP_P
  temperature: f32,   // > 0 for sampling; 0 runs only the greedy passes
  top_p: f32,         // 1 when top-p is off
  draw: f32,          // uniform random number in [0, 1) from the host
}

struct State {
  max_logit: f32,
  max_index: u32,
  max_key: u32,
  lo: u32,            // bisection interval [lo, hi] of threshold keys
  hi: u32,
  probe: u32,         // key that the next threshold_partial pass counts from (key >= probe)
  threshold: u32,     // kept tokens have key >= threshold
  kept_mass: f32,     // Z_k, the mass kept by top-k
  token: u32,         // the result; starts as the argmax
}

// Per chunk: the mass and count of tokens with key >= probe, or the max logit (mass) and its index (count).
struct Partial {
  mass: f32,
  count: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;             // [V] f32
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> state: State;             // one State
@group(0) @binding(3) var<storage, read_write> partials: array<Partial>; // [partials]

const STAGE_TOP_K: u32 = 0u;
const STAGE_KEPT_MASS: u32 = 1u;
const STAGE_TOP_P: u32 = 2u;
const NO_INDEX: u32 = 0xffffffffu;  // sentinel: no index chosen yet
const LOWEST_F32: f32 = -3.4028234663852886e38;  // placeholder value while the index is NO_INDEX
const HUGE_TARGET: f32 = 3.0e38;    // a target mass no running sum passes, which selects the last kept token

var<workgroup> wg_mass: array<f32, WORKGROUP_SIZE>;
var<workgroup> wg_count: array<u32, WORKGROUP_SIZE>;
var<workgroup> first_above: atomic<u32>;
var<workgroup> last_positive: atomic<u32>;
var<workgroup> chosen_chunk: u32;
var<workgroup> chosen_target: f32;

// Maps an f32 to a u32 with the same order: negative values flip all bits, others set the sign bit.
fn order_key(value: f32) -> u32 {
  let bits = bitcast<u32>(value);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn chunk_size() -> u32 { return WORKGROUP_SIZE * ITEMS_PER_THREAD; }

fn probability(logit: f32) -> f32 { return exp((logit - state.max_logit) / params.temperature); }

// Whether (value_b, index_b) beats (value_a, index_a) for the argmax: larger value, lower index on ties.
fn beats(value_a: f32, index_a: u32, value_b: f32, index_b: u32) -> bool {
  return index_b != NO_INDEX && (index_a == NO_INDEX || value_b > value_a || (value_b == value_a && index_b < index_a));
}

fn reduce_argmax(lid: u32, value: f32, index: u32) {
  wg_mass[lid] = value;
  wg_count[lid] = index;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride && beats(wg_mass[lid], wg_count[lid], wg_mass[lid + stride], wg_count[lid + stride])) {
      wg_mass[lid] = wg_mass[lid + stride];
      wg_count[lid] = wg_count[lid + stride];
    }
    workgroupBarrier();
  }
}

fn reduce_sums(lid: u32, mass: f32, count: u32) {
  wg_mass[lid] = mass;
  wg_count[lid] = count;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      wg_mass[lid] += wg_mass[lid + stride];
      wg_count[lid] += wg_count[lid + stride];
    }
    workgroupBarrier();
  }
}

// Inclusive prefix sum of `value` over the workgroup (Hillis-Steele); wg_mass holds the scan afterwards.
fn inclusive_scan(lid: u32, value: f32) -> f32 {
  wg_mass[lid] = value;
  workgroupBarrier();
  for (var offset = 1u; offset < WORKGROUP_SIZE; offset *= 2u) {
    var addend = 0.0;
    if (lid >= offset) { addend = wg_mass[lid - offset]; }
    workgroupBarrier();
    wg_mass[lid] += addend;
    workgroupBarrier();
  }
  return wg_mass[lid];
}

// The first invocation whose inclusive prefix passes `target_mass`, or else the last one with positive mass,
// or NO_INDEX when no invocation has mass.
fn select_invocation(lid: u32, own: f32, inclusive: f32, target_mass: f32) -> u32 {
  if (lid == 0u) {
    atomicStore(&first_above, NO_INDEX);
    atomicStore(&last_positive, 0u);
  }
  workgroupBarrier();
  if (own > 0.0) {
    if (inclusive > target_mass) { atomicMin(&first_above, lid); }
    atomicMax(&last_positive, lid + 1u);
  }
  workgroupBarrier();
  let first = atomicLoad(&first_above);
  let last = atomicLoad(&last_positive);
  if (first != NO_INDEX) { return first; }
  if (last > 0u) { return last - 1u; }
  return NO_INDEX;
}

// Upper middle of [lo, hi] without overflowing u32; lo when the interval is one key.
fn upper_middle(lo: u32, hi: u32) -> u32 { return lo + (hi - lo) / 2u + ((hi - lo) & 1u); }

// Probe of the top-p bisection: mass(key > middle) is mass(key >= middle + 1).
fn top_p_probe(lo: u32, hi: u32) -> u32 { return select(lo, lo + (hi - lo) / 2u + 1u, lo < hi); }

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  _ = &state;
  let chunk = wid.x;
  if (chunk >= params.partials) { return; }
  var best_value = LOWEST_F32;
  var best_index = NO_INDEX;
  for (var j = 0u; j < ITEMS_PER_THREAD; j++) {
    let i = chunk * chunk_size() + j * WORKGROUP_SIZE + lid;
    // Indices grow along j, so a strictly larger value is needed to replace an earlier one.
    if (i < params.vocab && (best_index == NO_INDEX || logits[i] > best_value)) {
      best_value = logits[i];
      best_index = i;
    }
  }
  reduce_argmax(lid, best_value, best_index);
  if (lid == 0u) { partials[chunk] = Partial(wg_mass[0], wg_count[0]); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_final(@builtin(local_invocation_index) lid: u32) {
  _ = &logits;
  var best_value = LOWEST_F32;
  var best_index = NO_INDEX;
  for (var p = lid; p < params.partials; p += WORKGROUP_SIZE) {
    if (beats(best_value, best_index, partials[p].mass, partials[p].count)) {
      best_value = partials[p].mass;
      best_index = partials[p].count;
    }
  }
  reduce_argmax(lid, best_value, best_index);
  if (lid == 0u) {
    state.max_logit = wg_mass[0];
    state.max_index = wg_count[0];
    state.max_key = order_key(wg_mass[0]);
    state.token = wg_count[0];
    state.threshold = 0u;
    state.kept_mass = 0.0;
    // Top-k searches all keys; with top-k off the interval is the single key 0, which keeps every token.
    state.lo = 0u;
    state.hi = select(0u, 0xffffffffu, params.top_k > 0u);
    state.probe = upper_middle(state.lo, state.hi);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn threshold_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunk = wid.x;
  if (chunk >= params.partials) { return; }
  let probe = state.probe;
  var mass = 0.0;
  var count = 0u;
  for (var j = 0u; j < ITEMS_PER_THREAD; j++) {
    let i = chunk * chunk_size() + j * WORKGROUP_SIZE + lid;
    if (i < params.vocab && order_key(logits[i]) >= probe) {
      mass += probability(logits[i]);
      count += 1u;
    }
  }
  reduce_sums(lid, mass, count);
  if (lid == 0u) { partials[chunk] = Partial(wg_mass[0], wg_count[0]); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn search_step(@builtin(local_invocation_index) lid: u32) {
  _ = &logits;
  var mass = 0.0;
  var count = 0u;
  for (var p = lid; p < params.partials; p += WORKGROUP_SIZE) {
    mass += partials[p].mass;
    count += partials[p].count;
  }
  reduce_sums(lid, mass, count);
  if (lid != 0u) { return; }
  let total_mass = wg_mass[0];
  let total_count = wg_count[0];
  var lo = state.lo;
  var hi = state.hi;
  if (params.stage == STAGE_TOP_K) {
    if (lo < hi) {
      if (total_count >= params.top_k) { lo = state.probe; } else { hi = state.probe - 1u; }
    }
    state.threshold = lo;
    state.probe = upper_middle(lo, hi);
  } else if (params.stage == STAGE_KEPT_MASS) {
    // The pass counted key >= threshold: that mass is Z_k, the normaliser of top-p.
    state.kept_mass = total_mass;
    lo = state.threshold;
    hi = select(lo, state.max_key, params.top_p < 1.0);
    state.probe = top_p_probe(lo, hi);
  } else {
    if (lo < hi) {
      let middle = state.probe - 1u;
      if (total_mass < params.top_p * state.kept_mass) { hi = middle; } else { lo = middle + 1u; }
    }
    state.threshold = lo;
    state.probe = top_p_probe(lo, hi);
  }
  state.lo = lo;
  state.hi = hi;
}

// Runs after a threshold_partial pass with probe == threshold, so partials hold each chunk's kept mass.
@compute @workgroup_size(WORKGROUP_SIZE)
fn pick(@builtin(local_invocation_index) lid: u32) {
  let threshold = state.threshold;

  // Phase 1: the chunk. Each invocation owns a contiguous run of partials, in index order.
  let per_invocation = (params.partials + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  let first_partial = min(lid * per_invocation, params.partials);
  let end_partial = min(first_partial + per_invocation, params.partials);
  var own = 0.0;
  for (var p = first_partial; p < end_partial; p++) { own += partials[p].mass; }
  let inclusive = inclusive_scan(lid, own);
  var exclusive = 0.0;
  if (lid > 0u) { exclusive = wg_mass[lid - 1u]; }
  let target_mass = params.draw * wg_mass[WORKGROUP_SIZE - 1u];
  let owner = select_invocation(lid, own, inclusive, target_mass);
  if (lid == owner) {
    var running = exclusive;
    var chunk = NO_INDEX;
    var chunk_target = HUGE_TARGET;
    var last_chunk = NO_INDEX;
    for (var p = first_partial; p < end_partial; p++) {
      let mass = partials[p].mass;
      if (mass > 0.0) {
        if (chunk == NO_INDEX && running + mass > target_mass) {
          chunk = p;
          chunk_target = target_mass - running;
        }
        last_chunk = p;
      }
      running += mass;
    }
    // Rounding (or draw close to 1) can leave the target mass unpassed: take the last kept token.
    if (chunk == NO_INDEX) { chunk = last_chunk; }
    chosen_chunk = chunk;
    chosen_target = chunk_target;
  }
  if (owner == NO_INDEX && lid == 0u) { chosen_chunk = NO_INDEX; }
  workgroupBarrier();
  let chunk = chosen_chunk;
  let chunk_target = chosen_target;

  // Phase 2: the token. Each invocation owns ITEMS_PER_THREAD consecutive logits of the chunk.
  let first_item = chunk * chunk_size() + lid * ITEMS_PER_THREAD;
  var item_mass = 0.0;
  if (chunk != NO_INDEX) {
    for (var j = 0u; j < ITEMS_PER_THREAD; j++) {
      let i = first_item + j;
      if (i < params.vocab && order_key(logits[i]) >= threshold) { item_mass += probability(logits[i]); }
    }
  }
  let item_inclusive = inclusive_scan(lid, item_mass);
  var item_exclusive = 0.0;
  if (lid > 0u) { item_exclusive = wg_mass[lid - 1u]; }
  let item_owner = select_invocation(lid, item_mass, item_inclusive, chunk_target);
  if (chunk == NO_INDEX || lid != item_owner) { return; }
  var running = item_exclusive;
  var token = NO_INDEX;
  var last_kept = NO_INDEX;
  for (var j = 0u; j < ITEMS_PER_THREAD; j++) {
    let i = first_item + j;
    if (i < params.vocab && order_key(logits[i]) >= threshold) {
      let mass = probability(logits[i]);
      if (mass > 0.0) {
        if (token == NO_INDEX && running + mass > chunk_target) { token = i; }
        last_kept = i;
      }
      running += mass;
    }
  }
  if (token == NO_INDEX) { token = last_kept; }
  if (token != NO_INDEX) { state.token = token; }
}
