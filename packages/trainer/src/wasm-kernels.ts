/** Kernel fixes for the wasm backend; filled in by the speed work. */
export function installWasmFixes(): void {}
