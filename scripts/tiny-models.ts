/** Generates the tiny random-weight test models under public/models/ when missing. */
export async function ensureTinyModels(): Promise<void> {
  // Filled in by the tiny-model generator.
}
